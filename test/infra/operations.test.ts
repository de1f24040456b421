import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYNC_CONCURRENCY } from '../../infra/constructs/automations.ts';
import type { ProjectFunction } from '../../infra/constructs/project-function.ts';
import { defineHangarApp, type HangarStacks } from '../../infra/hangar-app.ts';
import { WORKFLOWS } from '../../shared/workflows/definitions.ts';
import { actionsOf, logicalIdIn, resourcesOf, synthesize, type Synthesized } from './synth.ts';

/**
 * AWS readiness: the functions that reach EC2 may do exactly what the EC2 adapter calls, every act
 * on a machine scoped by Hangar's tags; role accounts can be assumed; every queue, failed workflow
 * and failed sync reaches an operator; the sync fan-out is bounded.
 */
const STAGE = 'test';
const DEPLOYMENT = `hangar-${STAGE}`;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let synthesized: Synthesized;
let stacks: HangarStacks;
let stateless: Template;

beforeAll(() => {
  synthesized = synthesize(STAGE);
  ({ stacks, stateless } = synthesized);
});

const resources = () => stateless.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const idOf = (construct: Parameters<typeof logicalIdIn>[1]) => logicalIdIn(stacks.stateless, construct);

/** Every statement of every policy attached to `fn`'s role. */
function statementsOf(fn: ProjectFunction): Statement[] {
  const roleId = idOf(fn.role);
  return Object.values(resources())
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every statement of every IAM policy in the stateless stack. */
const allStatements = () =>
  Object.values(resources())
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);

const text = (value: unknown) => JSON.stringify(value);
const ec2Actions = (statements: Statement[]) => [...new Set(statements.flatMap(actionsOf).filter((a) => a.startsWith('ec2:')))].sort();

const functions = () => ({
  steps: stacks.stateless.workflows.stepsFunction,
  sync: stacks.stateless.automations.syncFunction,
  healthCheck: stacks.stateless.automations.healthCheckFunction,
  instancesApi: stacks.stateless.api.functions.instances,
  accountsApi: stacks.stateless.api.functions.accounts,
});

const DESCRIBE = [
  'ec2:DescribeImages',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstances',
  'ec2:DescribeKeyPairs',
  'ec2:DescribeRegions',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];

describe('EC2: least privilege, scoped by Hangar’s tags', () => {
  it('grants each function only the EC2 actions its use cases call', () => {
    const { steps, sync, healthCheck, instancesApi, accountsApi } = functions();
    expect(ec2Actions(statementsOf(steps))).toEqual(
      [...DESCRIBE, 'ec2:CreateTags', 'ec2:RebootInstances', 'ec2:RunInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances'].sort(),
    );
    expect(ec2Actions(statementsOf(sync))).toEqual([...DESCRIBE, 'ec2:TerminateInstances'].sort());
    for (const fn of [healthCheck, instancesApi, accountsApi]) expect(ec2Actions(statementsOf(fn)), fn.node.path).toEqual(DESCRIBE);
    const others = [stacks.stateless.automations.autoTerminateFunction, stacks.stateless.automations.sweepFunction, stacks.stateless.api.functions.clients, stacks.stateless.api.functions.public];
    for (const fn of others) expect(ec2Actions(statementsOf(fn)), fn.node.path).toEqual([]);
  });

  it('allows no EC2 action through a wildcard action', () => {
    for (const statement of allStatements()) {
      expect(actionsOf(statement).filter((a) => a.startsWith('ec2:') && a.includes('*'))).toEqual([]);
    }
  });

  it('grants Describe* on "*" only (EC2 Describe actions take no resource) and nothing else on "*"', () => {
    for (const statement of allStatements().filter((s) => actionsOf(s).some((a) => a.startsWith('ec2:')))) {
      if (resourcesOf(statement).includes('*')) {
        expect(actionsOf(statement).every((a) => a.startsWith('ec2:Describe')), text(statement)).toBe(true);
      }
    }
  });

  it('allows RunInstances to create an instance or volume only when the request carries Hangar’s tags for this stage', () => {
    const runs = allStatements().filter((s) => actionsOf(s).includes('ec2:RunInstances'));
    expect(runs.length).toBeGreaterThan(0);
    const creating = runs.filter((s) => resourcesOf(s).some((r) => /:(instance|volume)\/\*/.test(text(r)) || r === '*'));
    expect(creating).toHaveLength(1);
    for (const statement of creating) {
      expect(resourcesOf(statement)).not.toContain('*');
      expect(statement.Condition).toEqual({
        StringEquals: { 'aws:RequestTag/hangar:deployment': DEPLOYMENT },
        Null: { 'aws:RequestTag/hangar:instance-id': 'false', 'aws:RequestTag/hangar:client': 'false' },
      });
    }
    // The other RunInstances statement covers what a launch uses but does not create: no instance, no volume.
    for (const statement of runs.filter((s) => !creating.includes(s))) {
      expect(text(statement.Resource)).toMatch(/image\/\*/);
      expect(text(statement.Resource)).not.toMatch(/:(instance|volume)\/\*|"\*"/);
    }
  });

  it('allows CreateTags only as part of RunInstances, with the same tags', () => {
    const tagging = allStatements().filter((s) => actionsOf(s).includes('ec2:CreateTags'));
    expect(tagging).toHaveLength(1);
    expect(tagging[0]!.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/hangar:deployment': DEPLOYMENT, 'ec2:CreateAction': 'RunInstances' },
      Null: { 'aws:RequestTag/hangar:instance-id': 'false', 'aws:RequestTag/hangar:client': 'false' },
    });
    expect(resourcesOf(tagging[0]!)).not.toContain('*');
  });

  it('allows start, stop, reboot and terminate only on instances tagged as this stage’s and Hangar’s', () => {
    const acting = allStatements().filter((s) =>
      actionsOf(s).some((a) => ['ec2:StartInstances', 'ec2:StopInstances', 'ec2:RebootInstances', 'ec2:TerminateInstances'].includes(a)),
    );
    expect(acting.length).toBe(2); // the steps' and the sync's
    for (const statement of acting) {
      expect(text(statement.Resource)).toMatch(/:instance\/\*"\]\]}$/);
      expect(statement.Condition).toEqual({
        StringEquals: { 'ec2:ResourceTag/hangar:deployment': DEPLOYMENT },
        Null: { 'ec2:ResourceTag/hangar:instance-id': 'false' },
      });
    }
  });

  it('names the deployment the tags carry in HANGAR_DEPLOYMENT of every function that reaches EC2', () => {
    for (const fn of Object.values(functions())) {
      expect(resources()[idOf(fn.function)]!.Properties.Environment.Variables.HANGAR_DEPLOYMENT).toBe(DEPLOYMENT);
    }
  });
});

describe('STS: role accounts', () => {
  it('lets every function that builds a provider from an account assume a role ({roleArn, externalId} accounts)', () => {
    for (const fn of Object.values(functions())) {
      const assume = statementsOf(fn).filter((s) => actionsOf(s).includes('sts:AssumeRole'));
      expect(assume, fn.node.path).toHaveLength(1);
      expect(text(assume[0]!.Resource), fn.node.path).toMatch(/:iam::\*:role\/\*"/);
      expect(actionsOf(assume[0]!)).toEqual(['sts:AssumeRole']);
    }
  });

  it('lets no other function assume roles', () => {
    const others = [stacks.stateless.automations.autoTerminateFunction, stacks.stateless.automations.sweepFunction, stacks.stateless.api.functions.clients, stacks.stateless.api.functions.public];
    for (const fn of others) expect(statementsOf(fn).flatMap(actionsOf), fn.node.path).not.toContain('sts:AssumeRole');
  });
});

describe('alarms', () => {
  const alarms = () => Object.values(stateless.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, any> }[];
  const topicRef = () => ({ Ref: idOf(stacks.stateless.alarms.topic) });
  const metricsOf = (alarm: Record<string, any>) =>
    alarm.Properties.Metrics
      ? (alarm.Properties.Metrics as { MetricStat?: { Metric: Record<string, any> } }[]).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []))
      : [alarm.Properties];

  it('notify one SNS topic, on alarm and on recovery', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions).toEqual([topicRef()]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
    stateless.hasResourceProperties('AWS::SNS::Topic', { TopicName: `${DEPLOYMENT}-alarms` });
    stateless.hasOutput('AlarmTopicArn', { Value: topicRef() });
  });

  /** Queues a Lambda consumes are work queues; every other queue holds only what failed. */
  const consumedQueueIds = () =>
    Object.values(stateless.findResources('AWS::Lambda::EventSourceMapping')).flatMap((m) => {
      const arn = m.Properties.EventSourceArn as { 'Fn::GetAtt'?: [string, string] };
      return arn['Fn::GetAtt']?.[1] === 'Arn' ? [arn['Fn::GetAtt'][0]] : [];
    });

  it('watch every dead-letter and failure queue of the stack: one message is an alarm', () => {
    const queueIds = Object.keys(stateless.findResources('AWS::SQS::Queue')).filter((id) => !consumedQueueIds().includes(id));
    expect(queueIds.length).toBeGreaterThanOrEqual(2);
    for (const queueId of queueIds) {
      const watching = alarms().filter((alarm) =>
        metricsOf(alarm).some(
          (m) =>
            m.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            text(m.Dimensions) === text([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
        ),
      );
      expect(watching, queueId).toHaveLength(1);
      expect(watching[0]!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('watch every work queue for a stuck consumer: its oldest message waiting too long is an alarm', () => {
    const workQueues = consumedQueueIds();
    expect(workQueues.length).toBeGreaterThanOrEqual(1);
    for (const queueId of workQueues) {
      const watching = alarms().filter((alarm) =>
        metricsOf(alarm).some(
          (m) =>
            m.MetricName === 'ApproximateAgeOfOldestMessage' &&
            text(m.Dimensions) === text([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
        ),
      );
      expect(watching, queueId).toHaveLength(1);
      expect(watching[0]!.Properties.Threshold).toBeGreaterThan(15 * 60);
    }
  });

  it('watch failed and timed-out executions of every state machine', () => {
    for (const workflow of WORKFLOWS) {
      const machineRef = { Ref: idOf(stacks.stateless.workflows.stateMachines[workflow]) };
      const watching = alarms().filter((alarm) => {
        const names = metricsOf(alarm)
          .filter((m) => text(m.Dimensions) === text([{ Name: 'StateMachineArn', Value: machineRef }]))
          .map((m) => m.MetricName);
        return names.includes('ExecutionsFailed') && names.includes('ExecutionsTimedOut');
      });
      expect(watching, workflow).toHaveLength(1);
    }
  });

  it('watch the sync: its function’s errors and the jobs it records FAILED (from its log)', () => {
    const sync = stacks.stateless.automations.syncFunction;
    const watching = alarms().filter((alarm) =>
      metricsOf(alarm).some((m) => m.MetricName === 'Errors' && text(m.Dimensions) === text([{ Name: 'FunctionName', Value: { Ref: idOf(sync.function) } }])),
    );
    expect(watching).toHaveLength(1);
    expect(metricsOf(watching[0]!).map((m) => m.MetricName).sort()).toEqual(['Errors', 'SyncJobsFailed']);
    stateless.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: idOf(sync.logGroup) },
      FilterPattern: '{ $.message = "Sync job failed" }',
      MetricTransformations: [Match.objectLike({ MetricName: 'SyncJobsFailed', MetricNamespace: `Hangar/${STAGE}`, MetricValue: '1' })],
    });
  });

  it('subscribe no address by default, and the alarmEmail context value when given', () => {
    stateless.resourceCountIs('AWS::SNS::Subscription', 0);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], stage: STAGE, alarmEmail: 'ops@example.com' } });
    const withEmail = Template.fromStack(defineHangarApp(app).stateless);
    withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

describe('the periodic passes', () => {
  it.each(['sweepFunction', 'healthCheckFunction'] as const)('%s runs one pass at a time and drops a tick held back over a minute', (name) => {
    const fn = stacks.stateless.automations[name].function;
    expect(resources()[idOf(fn)]!.Properties.ReservedConcurrentExecutions).toBe(1);
    const invokeConfigs = Object.values(resources()).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties.FunctionName).includes(idOf(fn)),
    );
    expect(invokeConfigs).toHaveLength(1);
    expect(invokeConfigs[0]!.Properties).toMatchObject({ MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 });
  });
});

describe('the sync fan-out', () => {
  it('is bounded by reserved concurrency', () => {
    const sync = resources()[idOf(stacks.stateless.automations.syncFunction.function)]!;
    expect(sync.Properties.ReservedConcurrentExecutions).toBe(DEFAULT_SYNC_CONCURRENCY);
    expect(DEFAULT_SYNC_CONCURRENCY).toBeGreaterThan(0);
  });

  it('takes its bound from the syncConcurrency context value, and refuses one that is not a positive integer', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], stage: STAGE, syncConcurrency: '2' } });
    const template = Template.fromStack(defineHangarApp(app).stateless);
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: `${DEPLOYMENT}-sync`, ReservedConcurrentExecutions: 2 });
    const bad = new App({ context: { 'aws:cdk:bundling-stacks': [], stage: STAGE, syncConcurrency: 'lots' } });
    expect(() => defineHangarApp(bad)).toThrow(/syncConcurrency must be a positive integer/);
  });
});

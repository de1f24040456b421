import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProjectFunction } from '../../infra/constructs/project-function.ts';
import type { HangarStacks } from '../../infra/hangar-app.ts';
import { DEADLINE_SCHEDULER_VARIABLES } from '../../shared/adapters/aws/eventbridge-scheduler.ts';
import { SYNC_FUNCTION_VARIABLE } from '../../shared/adapters/aws/lambda-sync-dispatcher.ts';
import { stateMachineArnVariable } from '../../shared/adapters/aws/step-functions-workflows.ts';
import { WORKFLOWS } from '../../shared/workflows/definitions.ts';
import {
  acknowledgedRules,
  computePolicyAcknowledgements,
  actionsOf,
  kmsActionsOf,
  logicalIdIn,
  nagErrorsIn,
  nagErrorsInReport,
  producerValue,
  resourcesOf,
  roleStatements,
  synthesize,
  tableLogicalId,
  type PolicyStatementJson,
  type Synthesized,
  type ValidationReport,
} from './synth.ts';

const STAGE = 'test';
const GROUP = `hangar-${STAGE}-deadlines`;
const SYNC = `hangar-${STAGE}-sync`;
const SCHEDULING_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'];
const DEADLINE_VARIABLES = Object.values(DEADLINE_SCHEDULER_VARIABLES);

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
  DeletionPolicy?: string;
}

let synthesized: Synthesized;
let stacks: HangarStacks;
let stateless: Template;
let report: ValidationReport;

beforeAll(() => {
  synthesized = synthesize(STAGE);
  ({ stacks, stateless, report } = synthesized);
});

const resources = () => stateless.toJSON().Resources as Record<string, Resource>;
const automations = () => stacks.stateless.automations;
const idOf = (construct: Parameters<typeof logicalIdIn>[1]) => logicalIdIn(stacks.stateless, construct);
const onlyResourceOf = (type: string) => {
  const ids = Object.keys(stateless.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0]!;
};
const groupId = () => onlyResourceOf('AWS::Scheduler::ScheduleGroup');
const queueId = () => idOf(automations().deadLetterQueue);
const queueArn = () => ({ 'Fn::GetAtt': [queueId(), 'Arn'] });
const syncQueueArn = () => ({ 'Fn::GetAtt': [idOf(automations().syncFailureQueue), 'Arn'] });
const schedulerRoleId = () => idOf(automations().schedulerRole);
const schedulerRoleArn = () => ({ 'Fn::GetAtt': [schedulerRoleId(), 'Arn'] });
const variablesOf = (fn: ProjectFunction) =>
  (resources()[idOf(fn.function)]!.Properties.Environment as { Variables: Json }).Variables;
const statementsOf = (fn: ProjectFunction) => roleStatements(stateless, idOf(fn.role));

/** `arn:${Partition}:<service>:${Region}:${AccountId}:<rest>`, as formatArn renders it in this account-agnostic stack. */
const arnIn = (service: string, rest: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${rest}`]],
});
const targetArn = () => arnIn('lambda', `function:hangar-${STAGE}-auto-terminate`);
const syncFunction = () => automations().syncFunction;
const syncFunctionArn = () => ({ 'Fn::GetAtt': [idOf(syncFunction().function), 'Arn'] });

/**
 * The scheduling functions: they set a deadline on activate and extend, and cancel it on terminate;
 * the sync moves or cancels it when it corrects a drift or closes a ghost.
 */
const SCHEDULING_FUNCTIONS: Record<string, () => ProjectFunction> = {
  'instances API': () => stacks.stateless.api.functions.instances,
  'workflow steps': () => stacks.stateless.workflows.stepsFunction,
  sync: () => automations().syncFunction,
};
const schedulingFunctions = (): [string, ProjectFunction][] =>
  Object.entries(SCHEDULING_FUNCTIONS).map(([name, fn]) => [name, fn()]);
const otherFunctions = (): [string, ProjectFunction][] => [
  ['public API', stacks.stateless.api.functions.public],
  ['clients API', stacks.stateless.api.functions.clients],
  ['accounts API', stacks.stateless.api.functions.accounts],
  ['auto-terminate', automations().autoTerminateFunction],
  ['sweeper', automations().sweepFunction],
  ['health check', automations().healthCheckFunction],
];
/** The automations that terminate, and so start the terminate machine. */
const terminatingFunctions = (): [string, ProjectFunction][] => [
  ['auto-terminate', automations().autoTerminateFunction],
  ['sweeper', automations().sweepFunction],
];
const automationFunctions = (): [string, ProjectFunction][] => [
  ...terminatingFunctions(),
  ['health check', automations().healthCheckFunction],
  ['sync', automations().syncFunction],
];
/** Every function of the stage, automations, API areas and workflow steps. */
const allFunctions = (): [string, ProjectFunction][] => [
  ...automationFunctions(),
  ...Object.entries(stacks.stateless.api.functions).map(([area, fn]): [string, ProjectFunction] => [`${area} API`, fn]),
  ['workflow steps', stacks.stateless.workflows.stepsFunction],
];

interface RetryPolicy {
  MaximumRetryAttempts: number;
  MaximumEventAgeInSeconds: number;
}
/** The schedule of that name (the deadline schedules exist only at run time, so these are the recurring ones). */
function scheduleNamed(name: string): Resource {
  const matches = Object.values(resources()).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && r.Properties.Name === name);
  expect(matches, name).toHaveLength(1);
  return matches[0]!;
}
const roleIdOf = (schedule: Resource) => ((schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } }).RoleArn)['Fn::GetAtt'][0];
const retryOf = (schedule: Resource) => (schedule.Properties.Target as { RetryPolicy: RetryPolicy }).RetryPolicy;

/** A role that only Scheduler, for default-group schedules, may assume, allowed to invoke `fn` and nothing else. */
function expectInvokeOnlyRole(roleId: string, fn: ProjectFunction) {
  expect(roleId).not.toBe(schedulerRoleId());
  expectTrust(roleId, 'scheduler.amazonaws.com', arnIn('scheduler', 'schedule-group/default'));

  const fnArn = { 'Fn::GetAtt': [idOf(fn.function), 'Arn'] };
  const statements = roleStatements(stateless, roleId);
  expect(statements).toHaveLength(1);
  expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
  // The unqualified ARN, and `:*` from LambdaInvoke's grantInvoke (versions and aliases of the same function).
  expect(resourcesOf(statements[0]!)).toEqual([fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }]);
}

/** The only trust statement of a role: sts:AssumeRole by `service` from this account, plus any extra conditions. */
function expectTrust(roleId: string, service: string, sourceArn: unknown) {
  expect(resources()[roleId]!.Properties.AssumeRolePolicyDocument).toMatchObject({
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: service },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': sourceArn } },
      },
    ],
  });
  expect((resources()[roleId]!.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toHaveLength(1);
  expect(resources()[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
}

/** Every statement as `<actions> on <resources>`, sorted, so a role's whole policy compares in one line. */
const permissions = (statements: PolicyStatementJson[]) =>
  statements
    .map((s) => `${s.Effect} ${[...actionsOf(s)].sort().join(',')} on ${JSON.stringify(resourcesOf(s))}`)
    .sort();

describe('automations: the deadline schedule group', () => {
  it('is one group per stage, named hangar-<stage>-deadlines, deleted with the stack', () => {
    expect(resources()[groupId()]).toMatchObject({
      Properties: { Name: GROUP },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('automations: the recurring schedules', () => {
  it('are the sweeper, the health check and the sync, and nothing else', () => {
    const names = Object.values(stateless.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties.Name);
    expect(names.sort()).toEqual([`hangar-${STAGE}-check-health`, `hangar-${STAGE}-sweep-deadlines`, SYNC]);
  });

  it('each run as a role of their own', () => {
    const sweepRole = roleIdOf(scheduleNamed(`hangar-${STAGE}-sweep-deadlines`));
    const healthRole = roleIdOf(scheduleNamed(`hangar-${STAGE}-check-health`));
    const syncRole = roleIdOf(scheduleNamed(SYNC));
    expect(new Set([sweepRole, healthRole, syncRole]).size).toBe(3);
    expect(sweepRole).toBe(idOf(automations().node.findChild('SweepSchedulerRole')));
    expect(healthRole).toBe(idOf(automations().node.findChild('HealthCheckSchedulerRole')));
    expect(syncRole).toBe(idOf(automations().node.findChild('SyncSchedulerRole')));
  });
});

describe('automations: the sweeper', () => {
  it('runs every 5 minutes from a schedule in the default group, targeting the sweep function with a bounded retry policy', () => {
    const properties = scheduleNamed(`hangar-${STAGE}-sweep-deadlines`).Properties;
    expect(properties).toMatchObject({
      Name: `hangar-${STAGE}-sweep-deadlines`,
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [idOf(automations().sweepFunction.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) },
      },
    });
    // Out of the deadline group, so the run-time `schedule/<group>/*` rights cannot touch it.
    expect(properties.GroupName).toBeUndefined();
    const retry = retryOf(scheduleNamed(`hangar-${STAGE}-sweep-deadlines`));
    expect(retry.MaximumRetryAttempts).toBeGreaterThan(0);
    // A retried sweep never outlives the next run.
    expect(retry.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(retry.MaximumEventAgeInSeconds).toBeLessThan(5 * 60);
  });

  it('runs as a role of its own that may invoke the sweep function and nothing else', () => {
    expectInvokeOnlyRole(roleIdOf(scheduleNamed(`hangar-${STAGE}-sweep-deadlines`)), automations().sweepFunction);
  });
});

describe('automations: the health check', () => {
  it('runs every minute from a schedule in the default group, targeting the check-health function', () => {
    const properties = scheduleNamed(`hangar-${STAGE}-check-health`).Properties;
    expect(properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [idOf(automations().healthCheckFunction.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      },
    });
    expect(properties.GroupName).toBeUndefined();
  });

  it('retries once and gives up after 60 s, the least Scheduler accepts, so a retry never meets the next run', () => {
    expect(retryOf(scheduleNamed(`hangar-${STAGE}-check-health`))).toEqual({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 60 });
  });

  it('has a timeout under a minute, so a run ends before the next starts', () => {
    const timeout = resources()[idOf(automations().healthCheckFunction.function)]!.Properties.Timeout as number;
    expect(timeout).toBeGreaterThanOrEqual(30);
    expect(timeout).toBeLessThan(60);
  });

  it('runs as a role of its own that may invoke the check-health function and nothing else', () => {
    const roleId = roleIdOf(scheduleNamed(`hangar-${STAGE}-check-health`));
    expect(roleId).not.toBe(roleIdOf(scheduleNamed(`hangar-${STAGE}-sweep-deadlines`)));
    expectInvokeOnlyRole(roleId, automations().healthCheckFunction);
  });

  it('may not start workflows: no state machine variables and no states: action', () => {
    expectNoWorkflows(automations().healthCheckFunction);
  });
});

function expectNoWorkflows(fn: ProjectFunction) {
  const variables = variablesOf(fn);
  for (const w of WORKFLOWS) expect(variables[stateMachineArnVariable(w)], w).toBeUndefined();
  expect(statementsOf(fn).flatMap(actionsOf).filter((a) => a.startsWith('states:'))).toEqual([]);
}

/** Every lambda:InvokeFunction statement of the stack, with the role it is attached to. */
function invokeStatements(): { roleId: string; statement: PolicyStatementJson }[] {
  return Object.values(stateless.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).flatMap(({ Ref: roleId }) =>
      (policy.Properties.PolicyDocument.Statement as PolicyStatementJson[])
        .filter((s) => actionsOf(s).some((a) => a === 'lambda:InvokeFunction' || a === 'lambda:*' || a === '*'))
        .map((statement) => ({ roleId, statement })),
    ),
  );
}

describe('automations: the sync', () => {
  it('runs every 5 minutes from a schedule in the default group that sends {} to the sync function', () => {
    const properties = scheduleNamed(SYNC).Properties;
    expect(properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: syncFunctionArn(), RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } },
    });
    // `{}` queues and fans out; `{ run }` would run one target's jobs.
    expect(JSON.parse((properties.Target as { Input: string }).Input)).toEqual({});
    expect(properties.GroupName).toBeUndefined();
  });

  it('retries a delivery twice and gives up after 4 minutes, before the next run; no dead letters, the next run covers it', () => {
    const schedule = scheduleNamed(SYNC);
    expect(retryOf(schedule)).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 4 * 60 });
    expect((schedule.Properties.Target as Json).DeadLetterConfig).toBeUndefined();
  });

  it('runs as a role of its own that may invoke the sync function and nothing else', () => {
    expectInvokeOnlyRole(roleIdOf(scheduleNamed(SYNC)), syncFunction());
  });

  it('sends the runs that failed after two retries, or waited over an hour, to its failure queue', () => {
    const configs = Object.values(stateless.findResources('AWS::Lambda::EventInvokeConfig')).filter(
      (config) => JSON.stringify(config.Properties.FunctionName) === JSON.stringify({ Ref: idOf(syncFunction().function) }),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]!.Properties).toEqual({
      FunctionName: { Ref: idOf(syncFunction().function) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: syncQueueArn() } },
    });
    const send = statementsOf(syncFunction()).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(send).toHaveLength(1);
    expect(actionsOf(send[0]!)).toContain('sqs:SendMessage');
    expect(resourcesOf(send[0]!)).toEqual([syncQueueArn()]);
  });

  it('has a fixed name, a 5-minute timeout (a run lists a whole catalog per kind) and the default 512 MB', () => {
    expect(resources()[idOf(syncFunction().function)]!.Properties).toMatchObject({ FunctionName: SYNC, Timeout: 300, MemorySize: 512 });
  });

  // A Ref to itself in its own environment, or in the policy the function depends on, is a cycle
  // (Template.fromJSON in synthesize() rejects one): it names itself by the fixed name instead.
  it('names itself in SYNC_FUNCTION_NAME and may invoke itself, by its fixed name rather than a reference', () => {
    expect(variablesOf(syncFunction())[SYNC_FUNCTION_VARIABLE]).toBe(SYNC);
    const invoke = statementsOf(syncFunction()).filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    expect(resourcesOf(invoke[0]!)).toEqual([arnIn('lambda', `function:${SYNC}`)]);
  });

  it('is named to the accounts API function (POST /api/sync), by reference, with invoke on its unqualified ARN alone', () => {
    const accounts = stacks.stateless.api.functions.accounts;
    expect(variablesOf(accounts)[SYNC_FUNCTION_VARIABLE]).toEqual({ Ref: idOf(syncFunction().function) });
    const invoke = statementsOf(accounts).filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    expect(resourcesOf(invoke[0]!)).toEqual([syncFunctionArn()]);
  });

  it('is named to no other function', () => {
    const named = allFunctions()
      .filter(([, fn]) => variablesOf(fn)[SYNC_FUNCTION_VARIABLE] !== undefined)
      .map(([name]) => name);
    expect(named.sort()).toEqual(['accounts API', 'sync']);
  });

  it('may be invoked by the sync function, the accounts API function and its schedule role only, and by no resource policy', () => {
    const syncId = idOf(syncFunction().function);
    const naming = invokeStatements().filter(({ statement }) =>
      resourcesOf(statement).some((r) => r === '*' || JSON.stringify(r).includes(syncId) || JSON.stringify(r).includes(`:function:${SYNC}"`)),
    );
    expect(naming.map(({ roleId }) => roleId).sort()).toEqual(
      [idOf(syncFunction().role), idOf(stacks.stateless.api.functions.accounts.role), roleIdOf(scheduleNamed(SYNC))].sort(),
    );
    // No `lambda:InvokeFunction` on `*` anywhere in the stack (it would include the sync function).
    expect(invokeStatements().filter(({ statement }) => resourcesOf(statement).includes('*'))).toEqual([]);
    const permissions = Object.values(stateless.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(syncId),
    );
    expect(permissions).toEqual([]);
  });

  it('may not start workflows: no state machine variables and no states: action', () => {
    expectNoWorkflows(syncFunction());
  });
});

describe('automations: the deadline dead-letter queue and the sync failure queue', () => {
  const QUEUES: Record<string, () => string> = {
    'deadline dead-letter queue': () => queueId(),
    'sync failure queue': () => idOf(automations().syncFailureQueue),
  };

  it('are the only SQS queues besides those of the webhooks and of the event router', () => {
    const others = [stacks.stateless.webhooks.queue, stacks.stateless.webhooks.deadLetterQueue, stacks.stateless.realtime.routerFailureQueue].map(idOf);
    expect(Object.keys(stateless.findResources('AWS::SQS::Queue')).sort()).toEqual([...Object.values(QUEUES).map((id) => id()), ...others].sort());
  });

  it.each(Object.keys(QUEUES))('the %s is encrypted and keeps messages 14 days', (name) => {
    expect(resources()[QUEUES[name]!()]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it.each(Object.keys(QUEUES))('the %s refuses requests without TLS', (name) => {
    const queueId = QUEUES[name]!();
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
    const policies = Object.values(stateless.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.Queues).includes(queueId),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: queueArn,
        }),
      ]),
    );
  });
});

describe('automations: the role EventBridge Scheduler assumes for deadlines', () => {
  it('trusts only Scheduler, from this account and for schedules of the deadline group', () => {
    expectTrust(schedulerRoleId(), 'scheduler.amazonaws.com', { 'Fn::GetAtt': [groupId(), 'Arn'] });
  });

  it('may invoke the auto-terminate function, by its unqualified ARN, and send to the dead-letter queue: nothing else', () => {
    expect(permissions(roleStatements(stateless, schedulerRoleId()))).toEqual(
      permissions([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: targetArn() },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn() },
      ]),
    );
  });

  // The steps function names the target to schedule, and the target starts the machines that invoke
  // the steps function: a Ref along that loop is a cycle (Template.fromJSON in synthesize() rejects one).
  it('names the auto-terminate function: its fixed name is the one in the target ARN, so no Ref is needed', () => {
    expect(resources()[idOf(automations().autoTerminateFunction.function)]!.Properties.FunctionName).toBe(`hangar-${STAGE}-auto-terminate`);
  });
});

describe('automations: scheduling deadlines (grantScheduling)', () => {
  it.each(Object.keys(SCHEDULING_FUNCTIONS))('sets the four variables of the scheduler adapter on the %s function', (name) => {
    const fn = SCHEDULING_FUNCTIONS[name]!();
    const variables = variablesOf(fn);
    expect(
      {
        group: variables[DEADLINE_SCHEDULER_VARIABLES.groupName],
        target: variables[DEADLINE_SCHEDULER_VARIABLES.targetArn],
        role: variables[DEADLINE_SCHEDULER_VARIABLES.roleArn],
        deadLetter: variables[DEADLINE_SCHEDULER_VARIABLES.deadLetterArn],
      },
      name,
    ).toEqual({ group: { Ref: groupId() }, target: targetArn(), role: schedulerRoleArn(), deadLetter: queueArn() });
  });

  it.each(Object.keys(SCHEDULING_FUNCTIONS))('lets the %s function manage schedules of the deadline group and pass the scheduler role, exactly', (name) => {
    const fn = SCHEDULING_FUNCTIONS[name]!();
    const statements = statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:') || a.startsWith('iam:')));
    expect(statements, name).toHaveLength(2);
    const schedule = statements.find((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')))!;
    expect([...actionsOf(schedule)].sort(), name).toEqual(SCHEDULING_ACTIONS);
    expect(resourcesOf(schedule), name).toEqual([arnIn('scheduler', `schedule/${GROUP}/*`)]);
    expect(schedule.Effect).toBe('Allow');

    const passRole = statements.find((s) => actionsOf(s).some((a) => a.startsWith('iam:')))!;
    expect(passRole, name).toMatchObject({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: schedulerRoleArn(),
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
  });

  it('gives no other function the variables, the schedule rights or PassRole', () => {
    for (const [name, fn] of otherFunctions()) {
      expect(Object.keys(variablesOf(fn)).filter((v) => DEADLINE_VARIABLES.includes(v as never)), name).toEqual([]);
      const actions = statementsOf(fn).flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith('scheduler:') || a.startsWith('iam:')), name).toEqual([]);
    }
  });
});

describe('automations: the auto-terminate, sweep, health check and sync functions', () => {
  it('run on Node.js 22, arm64, traced, with the stage environment', () => {
    for (const [name, fn] of automationFunctions()) {
      expect(resources()[idOf(fn.function)]!.Properties, name).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        Environment: { Variables: expect.objectContaining({ HANGAR_RUNTIME: 'aws', HANGAR_STAGE: STAGE }) },
      });
    }
  });

  it('are bound read/write to the table and open sealed credentials with kms:Decrypt only', () => {
    for (const [name, fn] of automationFunctions()) {
      expect(producerValue(synthesized, variablesOf(fn).TABLE_NAME), name).toEqual({ Ref: tableLogicalId(synthesized.stateful) });
      const actions = statementsOf(fn).flatMap(actionsOf);
      expect(actions, name).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
      expect(actions, name).not.toContain('dynamodb:Scan');
      expect(kmsActionsOf(synthesized, stateless, idOf(fn.role)), name).toEqual(['kms:Decrypt']);
    }
  });

  it('auto-terminate and the sweeper may start the terminate machine (grantStart: the five machine ARNs and StartExecution on them)', () => {
    const machines = WORKFLOWS.map((w) => ({ Ref: idOf(stacks.stateless.workflows.stateMachines[w]) }));
    const sortById = (refs: unknown[]) => [...refs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const [name, fn] of terminatingFunctions()) {
      const variables = variablesOf(fn);
      for (const w of WORKFLOWS) expect(variables[stateMachineArnVariable(w)], `${name} ${w}`).toEqual({ Ref: idOf(stacks.stateless.workflows.stateMachines[w]) });
      const start = statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(start, name).toHaveLength(1);
      expect(actionsOf(start[0]!), name).toEqual(['states:StartExecution']);
      expect(sortById(resourcesOf(start[0]!)), name).toEqual(sortById(machines));
    }
  });
});

describe('automations: cdk-nag AwsSolutions', () => {
  const automationsPath = `Hangar-${STAGE}-Stateless/Automations`;

  it('leaves no unacknowledged error on the automations, in the report or walking the construct', () => {
    expect(nagErrorsInReport(report).filter((e) => e.includes(automationsPath))).toEqual([]);
    expect(nagErrorsIn(automations())).toEqual([]);
  });

  it('acknowledges the SQS3 of both queues, the LambdaInvoke :* of the recurring schedule roles and the project-function rules', () => {
    const sweepArn = `<${idOf(automations().sweepFunction.function)}.Arn>`;
    const healthCheckArn = `<${idOf(automations().healthCheckFunction.function)}.Arn>`;
    const syncArn = `<${idOf(syncFunction().function)}.Arn>`;
    expect(
      acknowledgedRules(automations())
        .map(({ rule, path }) => `${rule} at ${path}`)
        .sort(),
    ).toEqual(
      [
        ...['AutoTerminateFunction', 'SweepFunction', 'HealthCheckFunction', 'SyncFunction'].flatMap((fn) => [
          `AwsSolutions-L1 at ${automationsPath}/${fn}`,
          `AwsSolutions-IAM5[Resource::*] at ${automationsPath}/${fn}/Role`,
        ]),
        // From bindCompute (infra/stacks/stateless-stack.ts): the sync ends orphans, the health check looks.
        ...computePolicyAcknowledgements(`${automationsPath}/SyncFunction`, 'RECONCILE'),
        ...computePolicyAcknowledgements(`${automationsPath}/HealthCheckFunction`, 'OBSERVE'),
        `AwsSolutions-SQS3 at ${automationsPath}/DeadLetterQueue`,
        `AwsSolutions-SQS3 at ${automationsPath}/SyncFailureQueue`,
        `AwsSolutions-IAM5[Resource::${sweepArn}:*] at ${automationsPath}/SweepSchedulerRole`,
        `AwsSolutions-IAM5[Resource::${healthCheckArn}:*] at ${automationsPath}/HealthCheckSchedulerRole`,
        `AwsSolutions-IAM5[Resource::${syncArn}:*] at ${automationsPath}/SyncSchedulerRole`,
        // The schedule/<group>/* of grantScheduling, on the sync role (checked below).
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${GROUP}/*] at ${automationsPath}/SyncFunction/Role`,
      ].sort(),
    );
  });

  it('acknowledges the schedule/<group>/* wildcard on each scheduling role, for the deadline group only', () => {
    const rule = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${GROUP}/*]`;
    for (const [name, fn] of schedulingFunctions()) {
      const acknowledged = acknowledgedRules(fn.role).filter((a) => a.rule.includes('scheduler'));
      expect(acknowledged.map((a) => a.rule), name).toEqual([rule]);
      expect(acknowledged[0]!.path, name).toBe(fn.role.node.path);
      expect(acknowledged[0]!.reason, name).toMatch(/run time/);
    }
  });
});

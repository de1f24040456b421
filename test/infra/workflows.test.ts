import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HangarStacks } from '../../infra/hangar-app.ts';
import { stateMachineArnVariable } from '../../shared/adapters/aws/step-functions-workflows.ts';
import type { ApiArea } from '../../shared/http/routes.ts';
import { DEFINITIONS, ERRORS, WORKFLOWS, type WorkflowName } from '../../shared/workflows/definitions.ts';
import {
  acknowledgedRules,
  computePolicyAcknowledgements,
  actionsOf,
  logicalIdIn,
  nagErrorsIn,
  nagErrorsInReport,
  kmsActionsOf,
  producerValue,
  resourcesOf,
  roleStatements,
  secretsKeyLogicalId,
  synthesize,
  tableLogicalId,
  type Synthesized,
  type ValidationReport,
} from './synth.ts';

const STAGE = 'test';

/** The states each machine must have: the shared definitions are checked against this, not against themselves. */
const pollStates = (prefix: string) => [`${prefix}Init`, prefix, `${prefix}Done?`, `${prefix}Wait`, `${prefix}TimedOut`];
const COMPENSATION_STATES = ['Compensate', 'Failed', 'CompensationFailed'];
const EXPECTED_STATES: Record<WorkflowName, { startAt: string; states: string[] }> = {
  provision: {
    startAt: 'Reserve',
    // The poll that finds the machine up records it configured and READY: no Configure or Activate states.
    states: ['Reserve', 'Launch', ...pollStates('CheckUp'), 'Provisioned', ...COMPENSATION_STATES],
  },
  terminate: { startAt: 'Release', states: ['Release', ...pollStates('CheckGone'), 'Terminated', ...COMPENSATION_STATES] },
  stop: { startAt: 'StopMachine', states: ['StopMachine', ...pollStates('CheckStopped'), 'Stopped', ...COMPENSATION_STATES] },
  start: { startAt: 'StartMachine', states: ['StartMachine', ...pollStates('CheckStarted'), 'Started', ...COMPENSATION_STATES] },
  reboot: {
    startAt: 'RebootMachine',
    states: ['RebootMachine', ...pollStates('CheckRebooted'), 'Rebooted', ...COMPENSATION_STATES],
  },
};

/** What Step Functions needs for log delivery and X-Ray; these actions support no resource-level permissions. */
const WILDCARD_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

type Json = Record<string, unknown>;
interface AslState extends Json {
  Type: string;
  Resource?: unknown;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Next?: string;
}
interface AslDefinition extends Json {
  StartAt: string;
  States: Record<string, AslState>;
}

let synthesized: Synthesized;
let app: App;
let stacks: HangarStacks;
let stateless: Template;
let report: ValidationReport;

beforeAll(() => {
  synthesized = synthesize(STAGE);
  ({ app, stacks, stateless, report } = synthesized);
});

const resources = () => stateless.toJSON().Resources as Record<string, { Type: string; Properties: Json; DependsOn?: string[] }>;
const machineLogicalId = (w: WorkflowName) => logicalIdIn(stacks.stateless, stacks.stateless.workflows.stateMachines[w]);
const machineProperties = (w: WorkflowName) => resources()[machineLogicalId(w)]!.Properties;
const stepsFunctionLogicalId = () => logicalIdIn(stacks.stateless, stacks.stateless.workflows.stepsFunction.function);
const stepsFunctionArn = () => ({ 'Fn::GetAtt': [stepsFunctionLogicalId(), 'Arn'] });
const machineRoleLogicalId = (w: WorkflowName) => {
  const roleArn = machineProperties(w).RoleArn as { 'Fn::GetAtt': [string, string] };
  expect(roleArn['Fn::GetAtt'][1]).toBe('Arn');
  return roleArn['Fn::GetAtt'][0];
};
const apiFunctionLogicalId = (area: ApiArea) => logicalIdIn(stacks.stateless, stacks.stateless.api.functions[area].function);
const apiRoleLogicalId = (area: ApiArea) => logicalIdIn(stacks.stateless, stacks.stateless.api.functions[area].role);

/**
 * The deployed definition of a machine as JSON, with `${Name}` placeholders replaced by their
 * DefinitionSubstitutions (CloudFormation values such as Fn::GetAtt). A DefinitionString built
 * with Fn::Join is joined first, its tokens kept as markers so that a stray one is visible.
 */
function deployedDefinition(w: WorkflowName): AslDefinition {
  const { DefinitionString: raw, DefinitionSubstitutions: substitutions = {} } = machineProperties(w) as {
    DefinitionString: unknown;
    DefinitionSubstitutions?: Record<string, unknown>;
  };
  const text =
    typeof raw === 'string'
      ? raw
      : ((raw as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
          .map((part) => (typeof part === 'string' ? part : `<token ${JSON.stringify(part)}>`))
          .join((raw as { 'Fn::Join': [string] })['Fn::Join'][0]);
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const placeholder = /^\$\{(\w+)\}$/.exec(value);
      if (placeholder && placeholder[1]! in substitutions) return substitutions[placeholder[1]!];
      return value;
    }
    if (Array.isArray(value)) return value.map(substitute);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
    return value;
  };
  return substitute(JSON.parse(text)) as AslDefinition;
}

const taskStates = (definition: AslDefinition) => Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('workflows: the state machines', () => {
  it('deploys one Standard state machine per workflow, named after the stage, with logging and tracing', () => {
    stateless.resourceCountIs('AWS::StepFunctions::StateMachine', WORKFLOWS.length);
    for (const w of WORKFLOWS) {
      expect(machineProperties(w)).toMatchObject({
        StateMachineName: `hangar-${STAGE}-${w}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }],
        },
      });
    }
  });

  it('logs each machine to a log group of its own, under /aws/vendedlogs/states/, with a retention', () => {
    const logGroupIds = WORKFLOWS.map((w) => {
      const config = machineProperties(w).LoggingConfiguration as {
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
      };
      const id = config.Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      const logGroup = resources()[id]!;
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
      const name = logGroup.Properties.LogGroupName as { 'Fn::Join': [string, unknown[]] };
      expect(name['Fn::Join'][1][0]).toBe(`/aws/vendedlogs/states/hangar-${STAGE}-${w}-`);
      return id;
    });
    expect(new Set(logGroupIds).size).toBe(WORKFLOWS.length);
  });

  it.each(WORKFLOWS)('deploys the shared %s definition unchanged', (w) => {
    const text = machineProperties(w).DefinitionString;
    expect(typeof text).toBe('string');
    expect(JSON.parse(text as string)).toEqual(DEFINITIONS[w]);
  });

  it.each(WORKFLOWS)('%s has the expected states, start state and timeout', (w) => {
    const definition = deployedDefinition(w);
    expect(definition.StartAt).toBe(EXPECTED_STATES[w].startAt);
    expect(Object.keys(definition.States).sort()).toEqual([...EXPECTED_STATES[w].states].sort());
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it.each(WORKFLOWS)('%s checks right after it asks, and waits (the backoff the step returns) only while the check says not yet', (w) => {
    const definition = deployedDefinition(w);
    // From the start, through the ask, to the first check: no Wait on the way.
    const visited: string[] = [];
    let name = definition.StartAt;
    while (!definition.States[name]!.Next?.endsWith('Done?')) {
      visited.push(name);
      expect(definition.States[name]!.Type, name).not.toBe('Wait');
      name = definition.States[name]!.Next!;
    }
    expect(visited).toContain(`${name}Init`);
    expect(definition.States[name]).toMatchObject({ Type: 'Task', Next: `${name}Done?` });
    // The ask starts the loop with no wait: the first check is an immediate one.
    expect(definition.States[`${name}Init`]).toMatchObject({ Type: 'Pass', Result: { done: false, attempt: 0, waitSeconds: 0 }, Next: name });
    // Done leaves the loop for a final state; only "not yet" goes to the Wait, which uses the backoff the step returns.
    const choice = definition.States[`${name}Done?`] as AslState & { Choices: { Variable: string; BooleanEquals?: boolean; Next: string }[]; Default: string };
    const done = choice.Choices.find((c) => c.Variable === '$.poll.done' && c.BooleanEquals === true)!;
    expect(definition.States[done.Next]!.Type).toBe('Succeed');
    expect(choice.Default).toBe(`${name}Wait`);
    expect(definition.States[`${name}Wait`]).toEqual({ Type: 'Wait', SecondsPath: '$.poll.waitSeconds', Next: name });
  });

  it.each(WORKFLOWS)('%s invokes the steps function from every Task state, and nothing else', (w) => {
    const definition = deployedDefinition(w);
    const tasks = taskStates(definition);
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    for (const [name, state] of tasks) expect(state.Resource, name).toEqual(stepsFunctionArn());
    expect(machineProperties(w).DefinitionSubstitutions).toEqual({ StepsFunctionArn: stepsFunctionArn() });
  });

  it.each(WORKFLOWS)('%s retries throttling and blips with backoff, and lack of capacity a bounded number of times', (w) => {
    for (const [name, state] of taskStates(deployedDefinition(w))) {
      const retry = state.Retry ?? [];
      const quick = retry.find((r) => r.ErrorEquals.includes(ERRORS.throttled));
      expect(quick?.ErrorEquals, name).toContain(ERRORS.transient);
      expect(quick?.IntervalSeconds, name).toBeGreaterThan(0);
      expect(quick?.BackoffRate, name).toBeGreaterThan(1);
      expect(quick?.MaxAttempts, name).toBeGreaterThan(0);

      const capacity = retry.find((r) => r.ErrorEquals.includes(ERRORS.capacity));
      expect(capacity?.MaxAttempts, name).toBeGreaterThan(0);
      expect(capacity?.MaxAttempts, name).toBeLessThanOrEqual(5);
      expect(capacity?.BackoffRate, name).toBeGreaterThan(1);
    }
  });

  it.each(WORKFLOWS)("%s retries Lambda's own transient invoke errors in every Task state, with backoff", (w) => {
    const lambdaErrors = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
    for (const [name, state] of taskStates(deployedDefinition(w))) {
      for (const error of lambdaErrors) {
        const retrier = (state.Retry ?? []).find((r) => r.ErrorEquals.includes(error));
        expect(retrier, `${name} retries ${error}`).toBeDefined();
        expect(retrier!.MaxAttempts, `${name} ${error}`).toBeGreaterThan(0);
        expect(retrier!.BackoffRate, `${name} ${error}`).toBeGreaterThan(1);
      }
      // Retriers are tried in order and States.ALL must come last: none may shadow the Lambda errors.
      expect((state.Retry ?? []).flatMap((r) => r.ErrorEquals), name).not.toContain('States.ALL');
    }
  });

  it.each(WORKFLOWS)('%s sends any failure to Compensate, and a failed compensation to CompensationFailed', (w) => {
    const definition = deployedDefinition(w);
    for (const [name, state] of taskStates(definition)) {
      const next = name === 'Compensate' ? 'CompensationFailed' : 'Compensate';
      expect(state.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }]);
    }
    const timedOut = Object.keys(definition.States).find((n) => n.endsWith('TimedOut'))!;
    expect(definition.States[timedOut]).toMatchObject({ Type: 'Pass', Next: 'Compensate' });
    expect(definition.States.Failed).toMatchObject({ Type: 'Fail' });
    expect(definition.States.CompensationFailed).toMatchObject({ Type: 'Fail', Error: 'Hangar.CompensationFailed' });
  });
});

describe('workflows: the state machine roles', () => {
  it('gives each machine a role of its own that only Step Functions in this account may assume', () => {
    const roleIds = WORKFLOWS.map(machineRoleLogicalId);
    expect(new Set(roleIds).size).toBe(WORKFLOWS.length);
    for (const id of roleIds) {
      expect(resources()[id]!.Properties).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'states.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
      });
      expect(resources()[id]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it.each(WORKFLOWS)('lets the %s role invoke the steps function only; "*" only for log delivery and X-Ray', (w) => {
    const statements = roleStatements(stateless, machineRoleLogicalId(w));
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);

    const invoke = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(invoke).toHaveLength(1);
    expect(actionsOf(invoke[0]!)).toEqual(['lambda:InvokeFunction']);
    // The unqualified ARN the definitions call; no `:*` for versions or aliases.
    expect(resourcesOf(invoke[0]!)).toEqual([stepsFunctionArn()]);

    for (const statement of statements) {
      if (resourcesOf(statement).includes('*')) expect(WILDCARD_ACTIONS).toEqual(expect.arrayContaining(actionsOf(statement)));
    }
    const actions = statements.flatMap(actionsOf);
    expect([...new Set(actions)].sort()).toEqual([...WILDCARD_ACTIONS, 'lambda:InvokeFunction'].sort());
  });

  it('creates each machine after its role policy, so logging and invoke rights exist from the first execution', () => {
    for (const w of WORKFLOWS) {
      const policyIds = Object.keys(
        stateless.findResources('AWS::IAM::Policy', {
          Properties: { Roles: Match.arrayWith([{ Ref: machineRoleLogicalId(w) }]) },
        }),
      );
      expect(policyIds).toHaveLength(1);
      expect(resources()[machineLogicalId(w)]!.DependsOn).toEqual(expect.arrayContaining(policyIds));
    }
  });
});

describe('workflows: starting executions from the API', () => {
  it('names all five machines in the instances function environment', () => {
    const variables = (resources()[apiFunctionLogicalId('instances')]!.Properties.Environment as { Variables: Json }).Variables;
    for (const w of WORKFLOWS) expect(variables[stateMachineArnVariable(w)], w).toEqual({ Ref: machineLogicalId(w) });
    expect(Object.keys(variables).filter((v) => v.endsWith('_STATE_MACHINE_ARN')).sort()).toEqual(
      ['PROVISION', 'TERMINATE', 'STOP', 'START', 'REBOOT'].map((w) => `${w}_STATE_MACHINE_ARN`).sort(),
    );
  });

  it('lets the instances function start executions of exactly those five machines, and nothing more', () => {
    const statements = roleStatements(stateless, apiRoleLogicalId('instances')).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('states:')),
    );
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['states:StartExecution']);
    const sortById = (refs: unknown[]) => [...refs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(sortById(resourcesOf(statements[0]!))).toEqual(sortById(WORKFLOWS.map((w) => ({ Ref: machineLogicalId(w) }))));
  });

  it('gives no other function the machine ARNs or the right to start them', () => {
    const others = [
      { fn: apiFunctionLogicalId('public'), role: apiRoleLogicalId('public') },
      { fn: apiFunctionLogicalId('clients'), role: apiRoleLogicalId('clients') },
      { fn: apiFunctionLogicalId('accounts'), role: apiRoleLogicalId('accounts') },
      { fn: stepsFunctionLogicalId(), role: logicalIdIn(stacks.stateless, stacks.stateless.workflows.stepsFunction.role) },
    ];
    for (const { fn, role } of others) {
      const variables = (resources()[fn]!.Properties.Environment as { Variables: Json }).Variables;
      expect(Object.keys(variables).filter((v) => v.endsWith('_STATE_MACHINE_ARN')), fn).toEqual([]);
      expect(roleStatements(stateless, role).flatMap(actionsOf).filter((a) => a.startsWith('states:')), fn).toEqual([]);
    }
  });
});

describe('workflows: the steps function', () => {
  it('runs on Node.js 22, arm64, traced, with a timeout long enough for a provider call', () => {
    expect(resources()[stepsFunctionLogicalId()]!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: 60,
      LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      Environment: {
        Variables: expect.objectContaining({ HANGAR_RUNTIME: 'aws', HANGAR_STAGE: STAGE, POWERTOOLS_SERVICE_NAME: 'hangar' }),
      },
    });
  });

  it('is bound read/write to the table: TABLE_NAME and item access, no Scan', () => {
    const variables = (resources()[stepsFunctionLogicalId()]!.Properties.Environment as { Variables: Json }).Variables;
    expect(producerValue(synthesized, variables.TABLE_NAME)).toEqual({ Ref: tableLogicalId(synthesized.stateful) });

    const tableArn = { 'Fn::GetAtt': [tableLogicalId(synthesized.stateful), 'Arn'] };
    const role = logicalIdIn(stacks.stateless, stacks.stateless.workflows.stepsFunction.role);
    const statements = roleStatements(stateless, role).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    const put = statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
    expect(producerValue(synthesized, put.Resource)).toEqual(tableArn);
  });

  it('opens sealed credentials: SECRETS_KMS_KEY_ID names the secrets key, and kms:Decrypt on it is its only KMS action', () => {
    const variables = (resources()[stepsFunctionLogicalId()]!.Properties.Environment as { Variables: Json }).Variables;
    expect(producerValue(synthesized, variables.SECRETS_KMS_KEY_ID)).toEqual({
      'Fn::GetAtt': [secretsKeyLogicalId(synthesized.stateful), 'Arn'],
    });
    const role = logicalIdIn(stacks.stateless, stacks.stateless.workflows.stepsFunction.role);
    expect(kmsActionsOf(synthesized, stateless, role)).toEqual(['kms:Decrypt']);
  });
});

describe('workflows: cdk-nag AwsSolutions', () => {
  const workflowsPath = `Hangar-${STAGE}-Stateless/Workflows`;

  it('leaves no unacknowledged error on the workflows, in the report or walking the construct', () => {
    expect(nagErrorsInReport(report).filter((e) => e.includes(workflowsPath))).toEqual([]);
    expect(nagErrorsIn(stacks.stateless.workflows)).toEqual([]);
  });

  it('acknowledges only the wildcard actions of log delivery and X-Ray on each machine role, the project-function rules and the deadline schedules', () => {
    const acknowledged = acknowledgedRules(stacks.stateless.workflows);
    expect(acknowledged.map(({ rule, path }) => `${rule} at ${path}`).sort()).toEqual(
      [
        `AwsSolutions-L1 at ${workflowsPath}/StepsFunction`,
        `AwsSolutions-IAM5[Resource::*] at ${workflowsPath}/StepsFunction/Role`,
        // From bindCompute (infra/constructs/compute-access.ts): the steps launch and act on machines.
        ...computePolicyAcknowledgements(`${workflowsPath}/StepsFunction`, 'OPERATE'),
        // From grantScheduling (infra/constructs/automations.ts): the steps set and cancel deadlines.
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/hangar-${STAGE}-deadlines/*] at ${workflowsPath}/StepsFunction/Role`,
        ...WORKFLOWS.map(
          (w) => `AwsSolutions-IAM5[Resource::*] at ${workflowsPath}/${w.charAt(0).toUpperCase()}${w.slice(1)}StateMachine/Role`,
        ),
      ].sort(),
    );
    for (const { path, reason } of acknowledged.filter((a) => a.path.endsWith('StateMachine/Role'))) {
      expect(reason, path).toMatch(/logs:CreateLogDelivery/);
      expect(reason, path).toMatch(/xray:PutTraceSegments/);
    }
  });
});

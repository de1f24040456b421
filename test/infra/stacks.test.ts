import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HangarStacks } from '../../infra/hangar-app.ts';
import { TABLE } from '../../shared/db/table-definition.ts';
import { API_AREAS, ROUTES, routeKey, type ApiArea } from '../../shared/http/routes.ts';
import { WORKFLOWS } from '../../shared/workflows/definitions.ts';
import {
  acknowledgedRules,
  computePolicyAcknowledgements,
  actionsOf,
  logicalIdIn,
  nagErrorsIn,
  nagErrorsInReport,
  kmsActionsOf,
  producerValue,
  roleStatements,
  secretsKeyLogicalId,
  synthesize,
  tableLogicalId,
  type Synthesized,
  type ValidationReport,
} from './synth.ts';

const STAGE = 'test';
const RW_AREAS: ApiArea[] = ['clients', 'instances', 'accounts', 'webhooks', 'realtime'];
/** KMS actions on the secrets key per API area: sealing needs data keys, opening only Decrypt. */
const KMS_ACTIONS: Record<ApiArea, string[]> = {
  public: [],
  clients: [],
  instances: ['kms:Decrypt'],
  accounts: ['kms:Decrypt', 'kms:GenerateDataKey'],
  webhooks: ['kms:Decrypt', 'kms:GenerateDataKey'],
  realtime: [],
};

let synthesized: Synthesized;
let app: App;
let stacks: HangarStacks;
let stateful: Template;
let stateless: Template;
let report: ValidationReport;

beforeAll(() => {
  synthesized = synthesize(STAGE);
  ({ app, stacks, stateful, stateless, report } = synthesized);
});

const functionLogicalId = (area: ApiArea) => logicalIdIn(stacks.stateless, stacks.stateless.api.functions[area].function);
const roleLogicalId = (area: ApiArea) => logicalIdIn(stacks.stateless, stacks.stateless.api.functions[area].role);

const policyStatementsOf = (area: ApiArea) => roleStatements(stateless, roleLogicalId(area));

describe('app', () => {
  it('names one stack pair after the stage', () => {
    expect(stacks.stateful.stackName).toBe('Hangar-test-Stateful');
    expect(stacks.stateless.stackName).toBe('Hangar-test-Stateless');
    expect(stacks.stateless.dependencies).toContain(stacks.stateful);
  });

  it('tags resources with the stage', () => {
    stateless.allResourcesProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'hangar:stage', Value: STAGE }]),
    });
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ Tags: Match.arrayWith([{ Key: 'hangar:stage', Value: STAGE }]) })],
    });
  });
});

describe('stateful stack: the table', () => {
  it('has the pk/sk key schema, string keys and on-demand billing', () => {
    stateful.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: `hangar-${STAGE}`,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    });
  });

  it('has the three GSIs of the shared definition, string keys, projection ALL', () => {
    expect(TABLE.indexes.map((i) => i.name)).toEqual(['gsi1', 'gsi2', 'gsi3']);
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: TABLE.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
      AttributeDefinitions: Match.arrayWith(
        TABLE.indexes.flatMap((index) => [
          { AttributeName: index.partitionKey, AttributeType: 'S' },
          { AttributeName: index.sortKey, AttributeType: 'S' },
        ]),
      ),
    });
  });

  it('streams new and old images, expires items on ttl, keeps PITR and encryption on', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('lets a dev-like stage be destroyed', () => {
    stateful.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
      }),
    });
  });
});

describe('stateful stack: the secrets key', () => {
  it('is one customer-managed, symmetric key with rotation on and the stage alias', () => {
    stateful.resourceCountIs('AWS::KMS::Key', 1);
    stateful.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeySpec: Match.absent(),
      KeyUsage: Match.absent(),
      Tags: Match.arrayWith([{ Key: 'hangar:stage', Value: STAGE }]),
    });
    stateful.resourceCountIs('AWS::KMS::Alias', 1);
    stateful.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: `alias/hangar-${STAGE}-secrets`,
      TargetKeyId: { 'Fn::GetAtt': [secretsKeyLogicalId(stateful), 'Arn'] },
    });
  });

  it('leaves use of the key to IAM policies: the key policy trusts only the account', () => {
    const key = stateful.toJSON().Resources[secretsKeyLogicalId(stateful)];
    const statements = key.Properties.KeyPolicy.Statement as { Principal: { AWS: unknown } }[];
    expect(statements).toHaveLength(1);
    expect(JSON.stringify(statements[0]!.Principal.AWS)).toMatch(/:root/);
  });

  it('lets a dev-like stage delete the key with the table', () => {
    stateful.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});

describe('stateless stack: the API', () => {
  it('adds one route per entry of the route table, with its route key and no API Gateway authorizer', () => {
    // The HTTP API's routes (the WebSocket API's are test/infra/realtime.test.ts's).
    const httpRoutes = stateless.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: logicalIdIn(stacks.stateless, stacks.stateless.api.httpApi) } } });
    expect(Object.keys(httpRoutes)).toHaveLength(ROUTES.length);
    stateless.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    const routeKeys = Object.values(httpRoutes).map((r) => r.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual(ROUTES.map(routeKey).sort());
    expect(routeKeys).toContain('GET /api/instances/{id}');
  });

  it("sends each route to its area's function", () => {
    const integrations = stateless.findResources('AWS::ApiGatewayV2::Integration');
    const routes = Object.values(stateless.findResources('AWS::ApiGatewayV2::Route'));
    for (const route of ROUTES) {
      const resource = routes.find((r) => r.Properties.RouteKey === routeKey(route));
      const target = resource?.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      const integration = integrations[target['Fn::Join'][1][1].Ref];
      expect(integration?.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(route.area), 'Arn'] },
      });
    }
  });

  it('serves the default stage with throttling and JSON access logs, and outputs its URL', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key', 'if-match']), ExposeHeaders: ['etag'] }),
    });
    stateless.hasOutput('ApiUrl', {});
  });
});

describe('stateless stack: the functions', () => {
  it('runs one function per API area, plus the workflow steps, auto-terminate, the sweeper, the health check, the sync, the webhook deliverer, the three WebSocket routes and the event router, on Node.js 22, arm64, traced, with source maps', () => {
    expect([...API_AREAS]).toEqual(['public', 'clients', 'instances', 'accounts', 'webhooks', 'realtime']);
    stateless.resourceCountIs('AWS::Lambda::Function', 6 + 1 + 4 + 1 + 3 + 1);
    stateless.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: Match.objectLike({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'hangar',
          HANGAR_STAGE: STAGE,
          // Stamped on cloud machines so stages sharing an account keep apart.
          HANGAR_DEPLOYMENT: `hangar-${STAGE}`,
          HANGAR_RUNTIME: 'aws',
          // Off unless the stage's operator opts in (-c allowDeploymentAwsAccount=true).
          HANGAR_ALLOW_DEPLOYMENT_AWS_ACCOUNT: 'false',
        }),
      },
    });
  });

  it('gives every function its own log group with a retention', () => {
    const logGroups = stateless.findResources('AWS::Logs::LogGroup');
    for (const area of API_AREAS) {
      const fn = stateless.toJSON().Resources[functionLogicalId(area)];
      const logGroup = logGroups[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('names the table in TABLE_NAME where the table is bound, and nowhere else', () => {
    const resources = stateless.toJSON().Resources;
    for (const area of API_AREAS) {
      const variables = resources[functionLogicalId(area)].Properties.Environment.Variables;
      if (RW_AREAS.includes(area)) expect(producerValue(synthesized, variables.TABLE_NAME)).toEqual({ Ref: tableLogicalId(stateful) });
      else expect(variables.TABLE_NAME).toBeUndefined();
    }
  });

  it('grants read/write item access on the table and its named indexes to instances, clients and accounts', () => {
    const tableArn = { 'Fn::GetAtt': [tableLogicalId(stateful), 'Arn'] };
    for (const area of RW_AREAS) {
      const statements = policyStatementsOf(area).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      const actions = statements.flatMap(actionsOf);
      expect(actions).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
      );
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);

      const query = statements.find((s) => actionsOf(s).includes('dynamodb:Query'))!;
      const readResources = (query.Resource as unknown[]).map((r) => JSON.stringify(r));
      expect(producerValue(synthesized, JSON.parse(readResources[0]!))).toEqual(tableArn);
      for (const index of TABLE.indexes) {
        expect(readResources.some((r) => r.includes(`/index/${index.name}"`))).toBe(true);
      }
      const put = statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
      expect(producerValue(synthesized, put.Resource)).toEqual(tableArn);
    }
  });

  it('grants the public function no table access', () => {
    const actions = policyStatementsOf('public').flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('names the secrets key ARN in SECRETS_KMS_KEY_ID where credentials are sealed or opened, and nowhere else', () => {
    const resources = stateless.toJSON().Resources;
    const keyArn = { 'Fn::GetAtt': [secretsKeyLogicalId(stateful), 'Arn'] };
    for (const area of API_AREAS) {
      const variables = resources[functionLogicalId(area)].Properties.Environment.Variables;
      if (KMS_ACTIONS[area].length > 0) expect(producerValue(synthesized, variables.SECRETS_KMS_KEY_ID), area).toEqual(keyArn);
      else expect(variables.SECRETS_KMS_KEY_ID, area).toBeUndefined();
    }
  });

  it('grants exactly the KMS actions each area needs, on the secrets key only', () => {
    for (const area of API_AREAS) {
      expect(kmsActionsOf(synthesized, stateless, roleLogicalId(area)), area).toEqual(KMS_ACTIONS[area]);
    }
  });

  it('uses no AWS managed policies (each role writes to its own log group only)', () => {
    stateless.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged error in the synthesized validation report', () => {
    expect(nagErrorsInReport(report)).toEqual([]);
  });

  it('finds no unacknowledged error when the pack walks the app directly', () => {
    expect(nagErrorsIn(app)).toEqual([]);
  });

  it('acknowledges only the reviewed rules, each with a reason, next to what they cover', () => {
    const acknowledged = acknowledgedRules(app);
    for (const { rule, path, reason } of acknowledged) expect(reason.length, `${rule} at ${path}`).toBeGreaterThan(40);

    const api = 'Hangar-test-Stateless/InstancesApi';
    const workflows = 'Hangar-test-Stateless/Workflows';
    const automations = 'Hangar-test-Stateless/Automations';
    const webhooks = 'Hangar-test-Stateless/Webhooks';
    const realtime = 'Hangar-test-Stateless/Realtime';
    const projectFunction = (path: string) => [`AwsSolutions-L1 at ${path}`, `AwsSolutions-IAM5[Resource::*] at ${path}/Role`];
    const deadlineSchedules = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/hangar-test-deadlines/*]';
    const sweepFunctionArn = `<${logicalIdIn(stacks.stateless, stacks.stateless.automations.sweepFunction.function)}.Arn>`;
    const healthCheckFunctionArn = `<${logicalIdIn(stacks.stateless, stacks.stateless.automations.healthCheckFunction.function)}.Arn>`;
    const syncFunctionArn = `<${logicalIdIn(stacks.stateless, stacks.stateless.automations.syncFunction.function)}.Arn>`;
    expect(acknowledged.map(({ rule, path }) => `${rule} at ${path}`).sort()).toEqual(
      [
        `AwsSolutions-APIG4 at ${api}/HttpApi`,
        ...API_AREAS.flatMap((area) => projectFunction(`${api}/${area.charAt(0).toUpperCase()}${area.slice(1)}Function`)),
        ...projectFunction(`${workflows}/StepsFunction`),
        ...projectFunction(`${automations}/AutoTerminateFunction`),
        ...projectFunction(`${automations}/SweepFunction`),
        ...projectFunction(`${automations}/HealthCheckFunction`),
        ...projectFunction(`${automations}/SyncFunction`),
        ...computePolicyAcknowledgements(`${workflows}/StepsFunction`, 'OPERATE'),
        ...computePolicyAcknowledgements(`${automations}/SyncFunction`, 'RECONCILE'),
        ...computePolicyAcknowledgements(`${automations}/HealthCheckFunction`, 'OBSERVE'),
        ...computePolicyAcknowledgements(`${api}/InstancesFunction`, 'OBSERVE'),
        ...computePolicyAcknowledgements(`${api}/AccountsFunction`, 'OBSERVE'),
        `AwsSolutions-SNS2 at Hangar-test-Stateless/Alarms/Topic`,
        ...projectFunction(`${webhooks}/Deliverer`),
        `AwsSolutions-SQS3 at ${webhooks}/DeadLetterQueue`,
        `AwsSolutions-APIG4 at ${realtime}/Api`,
        ...['Connect', 'Disconnect', 'Message', 'Router'].flatMap((name) => projectFunction(`${realtime}/${name}Function`)),
        `AwsSolutions-IAM5[Resource::*] at ${realtime}/RouterFunction/Role/DefaultPolicy`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalIdIn(stacks.stateless, stacks.stateless.realtime.api)}>/live/*/@connections/*] at ${realtime}/RouterFunction/Role/DefaultPolicy`,
        `AwsSolutions-SQS3 at ${realtime}/RouterFailureQueue`,
        `${deadlineSchedules} at ${api}/InstancesFunction/Role`,
        `${deadlineSchedules} at ${workflows}/StepsFunction/Role`,
        `${deadlineSchedules} at ${automations}/SyncFunction/Role`,
        `AwsSolutions-SQS3 at ${automations}/DeadLetterQueue`,
        `AwsSolutions-SQS3 at ${automations}/SyncFailureQueue`,
        `AwsSolutions-IAM5[Resource::${sweepFunctionArn}:*] at ${automations}/SweepSchedulerRole`,
        `AwsSolutions-IAM5[Resource::${healthCheckFunctionArn}:*] at ${automations}/HealthCheckSchedulerRole`,
        `AwsSolutions-IAM5[Resource::${syncFunctionArn}:*] at ${automations}/SyncSchedulerRole`,
        ...WORKFLOWS.map(
          (w) => `AwsSolutions-IAM5[Resource::*] at ${workflows}/${w.charAt(0).toUpperCase()}${w.slice(1)}StateMachine/Role`,
        ),
      ].sort(),
    );
  });
});

describe('a protected stage (prod)', () => {
  let prod: ReturnType<typeof synthesize>;
  beforeAll(() => {
    prod = synthesize('prod');
  });

  it('retains the table, turns deletion protection and termination protection on', () => {
    prod.stateful.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'hangar-prod',
        Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })],
      }),
    });
    expect(prod.assembly.getStackArtifact(prod.stacks.stateful.artifactId).terminationProtection).toBe(true);
  });

  it('retains the secrets key, with rotation on and the stage alias', () => {
    prod.stateful.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    prod.stateful.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/hangar-prod-secrets' });
  });

  it('retains function, access and state machine logs', () => {
    prod.stateless.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });
});

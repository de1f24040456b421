import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnResource, Validations, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineHangarApp, type HangarStacks } from '../../infra/hangar-app.ts';
import { fromRepoRoot } from '../../infra/paths.ts';
import { TABLE } from '../../shared/db/table-definition.ts';
import { API_AREAS, ROUTES, routeKey, type ApiArea } from '../../shared/http/routes.ts';

/** The same feature flags the CLI uses, so the test synthesizes what `cdk synth` would. */
const cdkJsonContext = JSON.parse(readFileSync(fromRepoRoot('cdk.json'), 'utf8')).context as Record<string, unknown>;

const STAGE = 'test';
const RW_AREAS: ApiArea[] = ['clients', 'instances'];

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

function synthesize(stage: string) {
  const app = new App({
    // Bundling is skipped: no esbuild run, the assets are placeholders.
    context: {
      ...cdkJsonContext,
      'aws:cdk:bundling-stacks': [],
      stage,
      // Report nag findings in validation-report.json instead of throwing, so the test can list them.
      '@aws-cdk/core:failSynthOnValidationErrors': false,
    },
    // CloudFormation's own template validation costs seconds per synth; `cdk synth` still runs it.
    builtinCloudFormationValidation: false,
    stackTraces: false,
  });
  const stacks = defineHangarApp(app);
  const assembly = app.synth();
  const templateOf = (stack: Stack) => Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
  return { app, stacks, assembly, report, stateful: templateOf(stacks.stateful), stateless: templateOf(stacks.stateless) };
}

let app: App;
let stacks: HangarStacks;
let stateful: Template;
let stateless: Template;
let report: ValidationReport;

beforeAll(() => {
  ({ app, stacks, stateful, stateless, report } = synthesize(STAGE));
});

const logicalId = (construct: IConstruct) => stacks.stateless.getLogicalId(construct.node.defaultChild as CfnResource);
const functionLogicalId = (area: ApiArea) => logicalId(stacks.stateless.api.functions[area].function);
const roleLogicalId = (area: ApiArea) => logicalId(stacks.stateless.api.functions[area].role);

/** Follows a cross-stack reference (Fn::GetStackOutput) back to the stateful stack's output value. */
function producerValue(reference: unknown): unknown {
  const ref = (reference as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } })['Fn::GetStackOutput'];
  if (!ref) return reference;
  expect(ref.StackName).toBe(stacks.stateful.stackName);
  return stateful.toJSON().Outputs[ref.OutputName].Value;
}

function tableLogicalId(): string {
  const ids = Object.keys(stateful.findResources('AWS::DynamoDB::GlobalTable'));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function policyStatementsOf(area: ApiArea): { Action: string | string[]; Resource: unknown }[] {
  const policies = stateless.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId(area) }]) },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statement: { Action: string | string[] }) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

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

  it('has the four GSIs of the shared definition, string keys, projection ALL', () => {
    expect(TABLE.indexes.map((i) => i.name)).toEqual(['gsi1', 'gsi2', 'gsi3', 'gsi4']);
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

describe('stateless stack: the API', () => {
  it('adds one route per entry of the route table, with its route key and no API Gateway authorizer', () => {
    stateless.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    stateless.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    const routeKeys = Object.values(stateless.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
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
      CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key']) }),
    });
    stateless.hasOutput('ApiUrl', {});
  });
});

describe('stateless stack: the functions', () => {
  it('runs one function per API area on Node.js 22, arm64, traced, with source maps', () => {
    stateless.resourceCountIs('AWS::Lambda::Function', API_AREAS.length);
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
          HANGAR_RUNTIME: 'aws',
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
      if (RW_AREAS.includes(area)) expect(producerValue(variables.TABLE_NAME)).toEqual({ Ref: tableLogicalId() });
      else expect(variables.TABLE_NAME).toBeUndefined();
    }
  });

  it('grants read/write item access on the table and its named indexes to instances and clients', () => {
    const tableArn = { 'Fn::GetAtt': [tableLogicalId(), 'Arn'] };
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
      expect(producerValue(JSON.parse(readResources[0]!))).toEqual(tableArn);
      for (const index of TABLE.indexes) {
        expect(readResources.some((r) => r.includes(`/index/${index.name}"`))).toBe(true);
      }
      const put = statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
      expect(producerValue(put.Resource)).toEqual(tableArn);
    }
  });

  it('grants the public function no table access', () => {
    const actions = policyStatementsOf('public').flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('uses no AWS managed policies (each role writes to its own log group only)', () => {
    stateless.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });
});

describe('cdk-nag AwsSolutions', () => {
  const errorsOf = (violations: ValidationReport['pluginReports'][number]['violations']) =>
    violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`));

  it('leaves no unacknowledged error in the synthesized validation report', () => {
    const nag = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => errorsOf(r.violations))).toEqual([]);
  });

  it('finds no unacknowledged error when the pack walks the app directly', () => {
    const result = new AwsSolutionsChecks().validateScope(app);
    const errors = result.violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(errors).toEqual([]);
  });

  it('acknowledges only the reviewed rules, each with a reason, next to what they cover', () => {
    const acknowledged: string[] = [];
    const visit = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          expect(reason.length, `${id} at ${construct.node.path}`).toBeGreaterThan(40);
          acknowledged.push(`${id.replace(/^annotation::/i, '')} at ${construct.node.path}`);
        }
      }
      construct.node.children.forEach(visit);
    };
    visit(app);

    const api = 'Hangar-test-Stateless/InstancesApi';
    expect(acknowledged.sort()).toEqual(
      [
        `AwsSolutions-APIG4 at ${api}/HttpApi`,
        ...API_AREAS.flatMap((area) => {
          const fn = `${api}/${area.charAt(0).toUpperCase()}${area.slice(1)}Function`;
          return [`AwsSolutions-L1 at ${fn}`, `AwsSolutions-IAM5[Resource::*] at ${fn}/Role`];
        }),
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

  it('retains function and access logs', () => {
    prod.stateless.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });
});

import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HangarStacks } from '../../infra/hangar-app.ts';
import { WEBSOCKET_CALLBACK_URL_VARIABLE, WEBSOCKET_URL_VARIABLE } from '../../shared/adapters/aws/apigateway-websocket-publisher.ts';
import { eventItemFilterPattern } from '../../shared/db/event-stream-records.ts';
import { actionsOf, logicalIdIn, nagErrorsInReport, resourcesOf, roleStatements, synthesize, type Synthesized } from './synth.ts';

type Json = Record<string, unknown>;

let synthesized: Synthesized;
let stacks: HangarStacks;
let stateless: Template;

beforeAll(() => {
  synthesized = synthesize('test');
  ({ stacks, stateless } = synthesized);
});

const realtime = () => stacks.stateless.realtime;
const idOf = (construct: Parameters<typeof logicalIdIn>[1]) => logicalIdIn(stacks.stateless, construct);
const resources = () => stateless.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const variablesOf = (fnId: string) => (resources()[fnId]!.Properties.Environment as { Variables: Json }).Variables;

describe('Realtime construct', () => {
  it('serves a WebSocket API with $connect, $disconnect and $default, each on its own function', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', Name: 'hangar-test-ws', RouteSelectionExpression: '$request.body.action' });
    const routes = Object.values(stateless.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: idOf(realtime().api) } } })).map((r) => r.Properties.RouteKey as string);
    expect(routes.sort()).toEqual(['$connect', '$default', '$disconnect']);
    const integrations = Object.values(stateless.findResources('AWS::ApiGatewayV2::Integration', { Properties: { ApiId: { Ref: idOf(realtime().api) } } }));
    const targets = integrations.map((i) => JSON.stringify(i.Properties.IntegrationUri));
    for (const fn of Object.values(realtime().functions)) {
      expect(targets.filter((t) => t.includes(idOf(fn.function)))).toHaveLength(1);
    }
    // $default answers on the socket: its route carries a response.
    stateless.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', { RouteResponseKey: '$default' });
  });

  it('deploys a stage with throttling and access logs, and points tickets at it', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: idOf(realtime().api) },
      StageName: 'live',
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 50 }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    const tickets = variablesOf(idOf(stacks.stateless.api.functions.realtime.function));
    expect(JSON.stringify(tickets[WEBSOCKET_URL_VARIABLE])).toContain('wss://');
    expect(JSON.stringify(variablesOf(idOf(realtime().router.function))[WEBSOCKET_CALLBACK_URL_VARIABLE])).toContain('https://');
    expect(Object.keys(stateless.toJSON().Outputs)).toContain('WebSocketUrl');
  });

  it('feeds the router from the table stream, filtered to event items, bisecting, with bounded retries and a failure queue', () => {
    const mappings = Object.values(stateless.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: idOf(realtime().router.function) } } }));
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]!.Properties as Json;
    expect(mapping).toMatchObject({
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(realtime().routerFailureQueue), 'Arn'] } } },
    });
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([eventItemFilterPattern()]);
    expect(JSON.parse(filters[0]!.Pattern)).toEqual({
      eventName: ['INSERT'],
      dynamodb: { Keys: { pk: { S: [{ prefix: 'INSTANCE#' }] }, sk: { S: [{ prefix: 'EVENT#' }] } } },
    });
  });

  it('alarms as soon as a batch lands in the encrypted failure queue', () => {
    const queueId = idOf(realtime().routerFailureQueue);
    stateless.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    expect(resources()[queueId]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a.Properties.Dimensions ?? []).includes(queueId),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('lets only the router manage connections, and only on its own stage', () => {
    const manage = (fnRole: string) => roleStatements(stateless, fnRole).filter((s) => actionsOf(s).includes('execute-api:ManageConnections'));
    const routerStatements = manage(idOf(realtime().router.role));
    expect(routerStatements).toHaveLength(1);
    const resource = JSON.stringify(resourcesOf(routerStatements[0]!));
    expect(resource).toContain(idOf(realtime().api));
    expect(resource).toContain('/live/*/@connections/*');
    for (const fn of [...Object.values(realtime().functions), ...Object.values(stacks.stateless.api.functions)]) {
      expect(manage(idOf(fn.role)), fn.node.path).toEqual([]);
    }
    // The stream is read on the table's stream alone (ListStreams supports no resource).
    const streamReads = roleStatements(stateless, idOf(realtime().router.role)).filter((s) => actionsOf(s).includes('dynamodb:GetRecords'));
    expect(streamReads).toHaveLength(1);
    expect(JSON.stringify(resourcesOf(streamReads[0]!))).toContain('StreamArn');
  });

  it('leaves cdk-nag nothing to report on the real-time resources', () => {
    const errors = nagErrorsInReport(synthesized.report).filter((e) => e.includes('/Realtime/'));
    expect(errors).toEqual([]);
  });
});

import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { failureQueue } from './failure-queue.ts';
import { WEBSOCKET_CALLBACK_URL_VARIABLE, WEBSOCKET_URL_VARIABLE } from '../../shared/adapters/aws/apigateway-websocket-publisher.ts';
import { eventItemFilterPattern } from '../../shared/db/event-stream-records.ts';
import { ProjectFunction } from './project-function.ts';

export interface RealtimeProps {
  readonly table: ITableV2;
  /** The WebSocket API is `<namePrefix>-ws`. */
  readonly namePrefix: string;
  readonly environment?: Record<string, string>;
  /** @default 20 messages per second, bursts of 50 */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** Attempts at a failed batch (bisected each time) before it goes to the failure queue. @default 3 */
  readonly retryAttempts?: number;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** WebSocket API access-log fields ($context variables of WebSocket APIs). */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    eventType: '$context.eventType',
    connectionId: '$context.connectionId',
    status: '$context.status',
    integrationError: '$context.integrationErrorMessage',
    sourceIp: '$context.identity.sourceIp',
  }),
);

/**
 * Real time: the stage's WebSocket API (`$connect` spends a ticket, `$disconnect` forgets the
 * socket, `$default` answers subscribe/unsubscribe/ping as its route response), one function per
 * route as API Gateway needs one integration each; and the event router, fed by the table's
 * stream filtered to event items, with bisection, bounded retries and a failure queue for the
 * batches it could not route. Only the router posts to sockets, and only on this stage's
 * connections.
 */
export class Realtime extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  /** `wss://…/<stage>`: what tickets point at. */
  readonly url: string;
  readonly functions: { connect: ProjectFunction; disconnect: ProjectFunction; message: ProjectFunction };
  readonly router: ProjectFunction;
  /** Stream batches the router failed after its retries: their shard and sequence range, to replay by hand. */
  readonly routerFailureQueue: Queue;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    const common = { environment: props.environment, logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
    const routeFunction = (name: string, entry: string, description: string) =>
      new ProjectFunction(this, name, { entry, description, ...common }).bindTable(props.table, 'RW');
    this.functions = {
      // Spends the ticket (a conditional delete) and records the connection with its client channel.
      connect: routeFunction('ConnectFunction', 'functions/websocket/connect.ts', 'Hangar WebSocket: $connect (ticket check)'),
      // Deletes the connection and its subscriptions.
      disconnect: routeFunction('DisconnectFunction', 'functions/websocket/disconnect.ts', 'Hangar WebSocket: $disconnect'),
      // Reads instances and clients to authorize a channel, writes subscriptions.
      message: routeFunction('MessageFunction', 'functions/websocket/message.ts', 'Hangar WebSocket: subscribe, unsubscribe, ping'),
    };

    this.api = new WebSocketApi(this, 'Api', {
      apiName: `${props.namePrefix}-ws`,
      description: 'Hangar real-time events (open with a ticket from POST /api/realtime/tickets)',
      connectRouteOptions: { integration: new WebSocketLambdaIntegration('ConnectIntegration', this.functions.connect.function) },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', this.functions.disconnect.function) },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('MessageIntegration', this.functions.message.function),
        // The function's answer ({"type":"subscribed"…}) goes back on the socket.
        returnResponse: true,
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The $connect function authorizes every socket: it spends a single-use, 60-second ticket issued to an API key ' +
        '(POST /api/realtime/tickets) and refuses the handshake otherwise; keys never travel in URLs. Later routes act as ' +
        'the connection recorded then. An authorizer would need the same ticket read and could not spend it once.',
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: 'live',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 20, burstLimit: 50 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    this.url = this.stage.url;

    this.router = new ProjectFunction(this, 'RouterFunction', {
      entry: 'functions/stream/route-events.ts',
      description: 'Hangar event router: the table stream (event items) to every sink',
      timeout: Duration.seconds(30),
      ...common,
      environment: { ...props.environment, [WEBSOCKET_CALLBACK_URL_VARIABLE]: this.stage.callbackUrl },
      // Reads instances and subscriptions, deletes connections found gone.
    }).bindTable(props.table, 'RW');
    // PostToConnection on this stage's connections alone.
    this.stage.grantManagementApiAccess(this.router.role);

    this.routerFailureQueue = failureQueue(
      this,
      'RouterFailureQueue',
      "This queue is itself the router's on-failure destination: it receives the shard and sequence range of each stream " +
        'batch that failed after bisection and retries. A dead-letter queue behind it would only move those records once more.',
    );

    this.router.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.millis(0),
        // Only instance events reach the function (INSERTs of INSTANCE#/EVENT# items): the
        // instance, counter and connection writes of the same transactions never invoke it.
        filters: [FilterCriteria.filter(eventItemFilterPattern())],
        // A failing batch is split in halves until the record at fault is alone, retried a bounded
        // number of times, then sent to the failure queue so the shard moves on.
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 3,
        maxRecordAge: Duration.hours(1),
        // One batch per shard at a time: an instance's events stay in write order.
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.routerFailureQueue),
      }),
    );
    // The grants above sit in the role's default policy; each wildcard is acknowledged there, with why.
    const grants = this.router.role.node.findChild('DefaultPolicy');
    Validations.of(grants).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by the stream event source: dynamodb:ListStreams supports no resource-level permission. The stream reads ' +
        'themselves (DescribeStream, GetRecords, GetShardIterator) are granted on the table stream alone.',
    });
    Validations.of(grants).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${Stack.of(this).getLogicalId(this.api.node.defaultChild as never)}>/live/*/@connections/*]`,
      reason:
        'execute-api:ManageConnections on this stage\'s connections: the connection ids are made by API Gateway at each ' +
        'handshake, so they cannot be listed in advance.',
    });
  }

  /** The tickets route's function: names the WebSocket URL its tickets point at. */
  bindTicketIssuer(fn: ProjectFunction): void {
    fn.function.addEnvironment(WEBSOCKET_URL_VARIABLE, this.url);
  }
}

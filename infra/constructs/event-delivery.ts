import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { failureQueue } from './failure-queue.ts';
import { EVENT_BUS_VARIABLE } from '../../shared/adapters/aws/eventbridge-sink.ts';
import { WEBHOOK_QUEUE_URL_VARIABLE } from '../../shared/adapters/aws/sqs-webhook-queue.ts';
import { ProjectFunction } from './project-function.ts';

/**
 * The stage's event bus, `hangar-<stage>`: where every Hangar event lands for customers' own
 * EventBridge rules. It lives in the stateful stack: customers' rules hang on it, so it must
 * outlive redeployments of the functions (replacing it would silently orphan their rules).
 */
export class HangarEventBus extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, props: { stageName: string }) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `hangar-${props.stageName}`,
      description: `Hangar ${props.stageName}: every instance, client and webhook event (source "hangar"); see docs/events.md`,
    });
  }
}

export interface WebhookDeliveryProps {
  readonly table: ITableV2;
  /** Opens endpoints' sealed whsec_ secrets to sign. */
  readonly secretsKey: IKey;
  readonly environment?: Record<string, string>;
  /** Deliverer invocations at once (each sends up to 10 webhooks side by side). @default 10 */
  readonly maxConcurrency?: number;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Webhook delivery on AWS: the queue every attempt waits in (delays of up to 15 minutes per hop,
 * see shared/adapters/aws/sqs-webhook-queue.ts), its dead-letter queue for messages the deliverer
 * could not process five times (table or KMS trouble; a receiver's failure is never an error
 * here, it is a recorded attempt and a re-enqueued retry), and the deliverer function.
 */
export class WebhookDelivery extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deliverer: ProjectFunction;

  constructor(scope: Construct, id: string, props: WebhookDeliveryProps) {
    super(scope, id);

    this.deadLetterQueue = failureQueue(
      this,
      'DeadLetterQueue',
      'This queue is itself the dead-letter queue of the webhook queue. A dead-letter queue behind it would only move ' +
        'the same undeliverable jobs once more; an alarm watches it instead.',
    );

    // A run sends up to 10 webhooks side by side, each given 15 s; the visibility timeout is six
    // times the function's timeout, as Lambda's SQS guidance asks.
    const timeout = Duration.seconds(30);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      // Every message waits at most 15 minutes (then hops again): 4 days is far beyond any one wait.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    this.deliverer = new ProjectFunction(this, 'Deliverer', {
      entry: 'functions/webhooks/deliver.ts',
      description: 'Hangar: one signed webhook attempt per queued job; retries re-enqueue with their delay',
      timeout,
      environment: props.environment,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      // Reads deliveries and endpoints, records attempts, disables endpoints, writes webhook.disabled events.
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    // Retries and not-yet-due jobs go back on the queue it consumes.
    this.grantEnqueue(this.deliverer);
    this.deliverer.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: props.maxConcurrency ?? 10 }),
    );
  }

  /** Names the queue in WEBHOOK_QUEUE_URL and lets `fn` send to it (the router's webhook sink, the test-event route). */
  grantEnqueue(fn: ProjectFunction): void {
    fn.function.addEnvironment(WEBHOOK_QUEUE_URL_VARIABLE, this.queue.queueUrl);
    this.queue.grantSendMessages(fn.role);
  }
}

/** Names the bus in EVENT_BUS_NAME and grants events:PutEvents on that bus alone. */
export function grantPublish(bus: IEventBus, fn: ProjectFunction): void {
  fn.function.addEnvironment(EVENT_BUS_VARIABLE, bus.eventBusName);
  bus.grantPutEventsTo(fn.role);
}

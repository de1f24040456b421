import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { requireEnv } from '../../config/env.ts';
import type { DeliveryJob, WebhookQueue } from '../../ports/webhook-queue.ts';
import { deliveryMessageBody } from './delivery-messages.ts';

/** SQS delays a message at most 15 minutes; longer waits are made of several hops (the deliverer re-enqueues a job that is not due). */
export const MAX_SQS_DELAY_SECONDS = 900;

/** The variable the CDK app sets on the functions that enqueue deliveries. */
export const WEBHOOK_QUEUE_URL_VARIABLE = 'WEBHOOK_QUEUE_URL';

let sharedClient: SQSClient | undefined;
const defaultClient = () => (sharedClient ??= new SQSClient({}));

/** The webhook delivery queue on AWS: one message per due attempt, consumed by functions/webhooks/deliver.ts. */
export class SqsWebhookQueue implements WebhookQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = defaultClient(),
  ) {}

  static fromEnvironment(): SqsWebhookQueue {
    return new SqsWebhookQueue(requireEnv(WEBHOOK_QUEUE_URL_VARIABLE));
  }

  async enqueue(job: DeliveryJob, delayMs: number): Promise<void> {
    const delaySeconds = Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: deliveryMessageBody(job),
        DelaySeconds: delaySeconds,
      }),
    );
  }
}

import type { WebhookQueue } from '../../ports/webhook-queue.ts';
import { once } from '../lazy.ts';

/** The SQS delivery queue and its client, loaded on the first delivery enqueued: a retry or a test event (see ./workflows.ts). */
export function webhookQueueOnFirstUse(): WebhookQueue {
  const load = once(async () => (await import('../../adapters/aws/sqs-webhook-queue.ts')).SqsWebhookQueue.fromEnvironment());
  return { enqueue: async (job, delayMs) => (await load()).enqueue(job, delayMs) };
}

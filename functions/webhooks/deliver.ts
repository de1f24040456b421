import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { KmsSecretBox } from '../../shared/adapters/aws/kms-secret-box.ts';
import { deliveryJobOf } from '../../shared/adapters/aws/delivery-messages.ts';
import { HttpWebhookTransport } from '../../shared/adapters/webhooks/http-transport.ts';
import { composeOnce } from '../../shared/config/compose-once.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { webhookQueueOnFirstUse } from '../../shared/config/on-first-use/webhook-queue.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { logger } from '../../shared/observability/powertools.ts';

const compose = composeOnce(() =>
  composeHangar({
    db: tableFromEnvironment(),
    secretBox: KmsSecretBox.fromEnvironment(),
    webhookTransport: HttpWebhookTransport.fromEnvironment(),
    // Only a failed attempt enqueues (its retry).
    webhookQueue: webhookQueueOnFirstUse,
  }),
);

/**
 * The webhook deliverer: one attempt per message of the delivery queue. A retry is a new message
 * the attempt itself enqueues with its delay; a message that fails here (the table or KMS
 * unavailable) comes back after the visibility timeout and, after five receipts, goes to the DLQ.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const deps = await compose();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      const job = deliveryJobOf(record.body);
      if (!job) {
        logger.warn('Dropped a message that is not a delivery job', { messageId: record.messageId });
        return;
      }
      try {
        const run = await deps.services.deliverWebhook(job);
        logger.info('Webhook delivery', { ...job, run });
      } catch (error) {
        logger.error('Webhook delivery failed', { ...job, error: error as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures };
};

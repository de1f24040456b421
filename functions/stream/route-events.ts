import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ApiGatewayWebSocketPublisher } from '../../shared/adapters/aws/apigateway-websocket-publisher.ts';
import { EventBridgeSink } from '../../shared/adapters/aws/eventbridge-sink.ts';
import { SqsWebhookQueue } from '../../shared/adapters/aws/sqs-webhook-queue.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';
import type { StreamRecord } from '../../shared/db/event-stream-records.ts';

/**
 * The table's stream, filtered to event items, in batches: each event to every sink. A failed
 * sink fails the batch, which Lambda bisects and retries, then leaves on the failure queue.
 */
export const handler = scheduledJob(
  () =>
    composeHangar({
      db: tableFromEnvironment(),
      webSocketPublisher: ApiGatewayWebSocketPublisher.fromEnvironment(),
      // Webhooks: deliveries recorded and queued here, attempted by functions/webhooks/deliver.ts.
      webhookQueue: () => SqsWebhookQueue.fromEnvironment(),
      eventSinks: [EventBridgeSink.fromEnvironment()],
    }),
  async (deps, event: DynamoDBStreamEvent) => {
    const routed = await deps.services.routeEvents(event.Records as StreamRecord[]);
    logger.debug('Events routed', { ...routed });
    return routed;
  },
);

import { deliveryIdOf, subscribes, webhookTypeOf, type WebhookDelivery, type WebhookEndpoint } from '../../domain/webhooks.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventSink, OutboundEvent } from '../../ports/event-sink.ts';
import type { WebhookQueue } from '../../ports/webhook-queue.ts';
import type { WebhookRepository } from '../../ports/webhook-repository.ts';
import { webhookBody } from './payload.ts';

export interface WebhookSinkDeps {
  webhooks: WebhookRepository;
  queue: WebhookQueue;
  clock: Clock;
}

/**
 * The router's webhook sink: for each event, every enabled endpoint of the event's client that
 * subscribes to its type gets a delivery (recorded, then queued for its first attempt). The
 * delivery id comes from the event and the endpoint, so a batch the router retries makes no
 * second delivery; the attempts themselves happen in the deliverer, never here.
 */
export function makeWebhookSink(deps: WebhookSinkDeps): EventSink {
  return {
    name: 'webhooks',
    async deliver(events: OutboundEvent[]): Promise<void> {
      // One read of a client's endpoints per batch, however many of its events the batch holds.
      const endpointsOf = new Map<string, Promise<WebhookEndpoint[]>>();
      for (const outbound of events) {
        const { event } = outbound;
        if (!event.clientId) continue;
        let endpoints = endpointsOf.get(event.clientId);
        if (!endpoints) endpointsOf.set(event.clientId, (endpoints = deps.webhooks.enabledEndpoints(event.clientId)));
        const type = webhookTypeOf(event);
        const wanting = (await endpoints).filter((endpoint) => subscribes(endpoint.events, type));
        if (wanting.length === 0) continue;
        const body = webhookBody(type, outbound);
        const now = deps.clock.now().toISOString();
        // In order per instance: each event's deliveries are queued before the next event's.
        for (const endpoint of wanting) {
          const delivery: WebhookDelivery = {
            deliveryId: deliveryIdOf(event.eventId, endpoint.webhookId),
            webhookId: endpoint.webhookId,
            clientId: endpoint.clientId,
            eventId: event.eventId,
            type,
            body,
            status: 'pending',
            attempts: [],
            nextAttemptAt: now,
            createdAt: now,
            updatedAt: now,
            version: 1,
          };
          const fresh = await deps.webhooks.createDelivery(delivery);
          // A retried batch finds the delivery made: it is queued again only if it never got an
          // attempt (the queueing may be what failed); the deliverer ignores a settled one.
          const queue = fresh || (await deps.webhooks.getDelivery(delivery.clientId, delivery.deliveryId))?.attempts.length === 0;
          if (queue) await deps.queue.enqueue({ clientId: delivery.clientId, deliveryId: delivery.deliveryId }, 0);
        }
      }
    },
  };
}

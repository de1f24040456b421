import type { WebhookDelivery, WebhookEndpoint } from '../domain/webhooks.ts';

/** An endpoint as clients read it: never the sealed secret; the plain one only when just made or rotated. */
export function presentWebhook(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.webhookId,
    clientId: endpoint.clientId,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description ?? null,
    status: endpoint.status,
    disabledReason: endpoint.disabledReason ?? null,
    failingSince: endpoint.failingSince ?? null,
    previousSecretExpiresAt: endpoint.previousSecretExpiresAt ?? null,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    version: endpoint.version,
    ...(secret ? { secret } : {}),
  };
}

/** A delivery with each attempt's status, duration and error; the id is the `webhook-id` receivers saw. */
export function presentDelivery(delivery: WebhookDelivery) {
  return {
    id: delivery.deliveryId,
    webhookId: delivery.webhookId,
    eventId: delivery.eventId,
    type: delivery.type,
    status: delivery.status,
    attempts: delivery.attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at,
      status: a.statusCode ?? null,
      durationMs: a.durationMs,
      error: a.error ?? null,
    })),
    nextAttemptAt: delivery.nextAttemptAt ?? null,
    note: delivery.note ?? null,
    test: delivery.test ?? false,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

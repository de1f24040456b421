import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'electrodb';
import { DELIVERY_STATUSES, WEBHOOK_STATUSES } from '../domain/webhooks.ts';
import { WEBHOOK_ENDPOINT_ATTRIBUTES } from './attributes.ts';
import { KEY_TEMPLATES } from './keys.ts';

const SERVICE = 'hangar';
const none = 'none' as const;
const version = { type: 'number', required: true } as const;

/**
 * Webhook endpoints and their deliveries, on the one table. An endpoint lives under its client
 * (`CLIENT#<id>` / `WEBHOOK#<id>`), so the fan-out reads one partition per event's client; a
 * delivery too (`DELIVERY#<id>`, ids start with the event's ULID), with gsi1 giving each
 * endpoint its log in time order. Deliveries expire after DELIVERY_RETENTION_SECONDS (adapters/dynamodb/webhook-repository.ts).
 */
export function createWebhookEntities(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  const endpoint = new Entity(
    {
      model: { entity: 'webhookEndpoint', version: '1', service: SERVICE },
      attributes: WEBHOOK_ENDPOINT_ATTRIBUTES,
      indexes: {
        byClient: {
          pk: { field: 'pk', composite: ['clientId'], template: KEY_TEMPLATES.webhook.pk, casing: none },
          sk: { field: 'sk', composite: ['webhookId'], template: KEY_TEMPLATES.webhook.sk, casing: none },
        },
      },
    },
    config,
  );

  const delivery = new Entity(
    {
      model: { entity: 'webhookDelivery', version: '1', service: SERVICE },
      attributes: {
        entityType: { type: 'string', default: 'webhookDelivery', readOnly: true, required: true },
        deliveryId: { type: 'string', required: true, readOnly: true },
        webhookId: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true, readOnly: true },
        eventId: { type: 'string', required: true, readOnly: true },
        type: { type: 'string', required: true, readOnly: true },
        body: { type: 'string', required: true, readOnly: true },
        status: { type: DELIVERY_STATUSES, required: true },
        attempts: { type: 'any', required: true },
        nextAttemptAt: { type: 'string' },
        note: { type: 'string' },
        test: { type: 'boolean' },
        createdAt: { type: 'string', required: true, readOnly: true },
        updatedAt: { type: 'string', required: true },
        ttl: { type: 'number', required: true },
        version,
      },
      indexes: {
        byClient: {
          pk: { field: 'pk', composite: ['clientId'], template: KEY_TEMPLATES.webhookDelivery.pk, casing: none },
          sk: { field: 'sk', composite: ['deliveryId'], template: KEY_TEMPLATES.webhookDelivery.sk, casing: none },
        },
        byWebhook: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['webhookId'], template: KEY_TEMPLATES.deliveriesByWebhook.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['deliveryId'], template: KEY_TEMPLATES.deliveriesByWebhook.sk, casing: none },
        },
      },
    },
    config,
  );
  return { endpoint, delivery };
}

export type WebhookEntities = ReturnType<typeof createWebhookEntities>;

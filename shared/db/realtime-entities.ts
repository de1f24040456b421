import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'electrodb';
import { ROLES } from '../domain/roles.ts';
import { KEY_TEMPLATES } from './keys.ts';

const SERVICE = 'hangar';
const none = 'none' as const;

/**
 * WebSocket tickets, connections and subscriptions on the one table. A connection and its
 * subscriptions share the partition `CONN#<id>`, so a disconnect finds them in one query; gsi1
 * lists a channel's subscribers for the router. Each item carries `ttl` (epoch seconds) for
 * DynamoDB to remove it, and `expiresAt` that reads check, since TTL deletion lags.
 */
export function createRealtimeEntities(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  const expiring = {
    expiresAt: { type: 'string', required: true },
    ttl: { type: 'number', required: true },
  } as const;

  const ticket = new Entity(
    {
      model: { entity: 'realtimeTicket', version: '1', service: SERVICE },
      attributes: {
        entityType: { type: 'string', default: 'realtimeTicket', readOnly: true, required: true },
        ticketHash: { type: 'string', required: true, readOnly: true },
        keyId: { type: 'string', required: true },
        role: { type: ROLES, required: true },
        /** `PLATFORM` for the platform admin (a key attribute cannot be null). */
        clientId: { type: 'string', required: true },
        issuedAt: { type: 'string', required: true },
        ...expiring,
      },
      indexes: {
        byHash: {
          pk: { field: 'pk', composite: ['ticketHash'], template: KEY_TEMPLATES.realtimeTicket.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.realtimeTicket.sk, casing: none },
        },
      },
    },
    config,
  );

  const connection = new Entity(
    {
      model: { entity: 'realtimeConnection', version: '1', service: SERVICE },
      attributes: {
        entityType: { type: 'string', default: 'realtimeConnection', readOnly: true, required: true },
        connectionId: { type: 'string', required: true, readOnly: true },
        keyId: { type: 'string', required: true },
        role: { type: ROLES, required: true },
        clientId: { type: 'string', required: true },
        connectedAt: { type: 'string', required: true },
        ...expiring,
      },
      indexes: {
        byId: {
          pk: { field: 'pk', composite: ['connectionId'], template: KEY_TEMPLATES.realtimeConnection.pk, casing: none },
          sk: { field: 'sk', composite: [], template: KEY_TEMPLATES.realtimeConnection.sk, casing: none },
        },
      },
    },
    config,
  );

  const subscription = new Entity(
    {
      model: { entity: 'realtimeSubscription', version: '1', service: SERVICE },
      attributes: {
        entityType: { type: 'string', default: 'realtimeSubscription', readOnly: true, required: true },
        connectionId: { type: 'string', required: true, readOnly: true },
        channel: { type: 'string', required: true, readOnly: true },
        clientId: { type: 'string', required: true },
        ...expiring,
      },
      indexes: {
        byConnection: {
          pk: { field: 'pk', composite: ['connectionId'], template: KEY_TEMPLATES.realtimeSubscription.pk, casing: none },
          sk: { field: 'sk', composite: ['channel'], template: KEY_TEMPLATES.realtimeSubscription.sk, casing: none },
        },
        byChannel: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['channel'], template: KEY_TEMPLATES.subscribersByChannel.pk, casing: none },
          sk: { field: 'gsi1sk', composite: ['connectionId'], template: KEY_TEMPLATES.subscribersByChannel.sk, casing: none },
        },
      },
    },
    config,
  );

  return { ticket, connection, subscription };
}

export type RealtimeEntities = ReturnType<typeof createRealtimeEntities>;

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { builtOnFirstRead } from '../config/lazy.ts';
import { createEntities } from './entities.ts';
import { createExternalEntities } from './external-entities.ts';
import { createRealtimeEntities } from './realtime-entities.ts';
import { createWebhookEntities } from './webhook-entities.ts';

/**
 * Every ElectroDB entity on the table, by area, each area built on its first read. This module is
 * the only way in to ElectroDB: `Db.entities()` imports it on the first write or query that needs
 * an entity, so a cold start that only reads by key (./raw-reads.ts) never loads ElectroDB.
 */
export function tableEntities(doc: DynamoDBDocumentClient, table: string) {
  return builtOnFirstRead({
    core: () => createEntities(doc, table).entities,
    realtime: () => createRealtimeEntities(doc, table),
    webhooks: () => createWebhookEntities(doc, table),
    external: () => createExternalEntities(doc, table),
  });
}

export type TableEntities = ReturnType<typeof tableEntities>;

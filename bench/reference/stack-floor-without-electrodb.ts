import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { KEY_TEMPLATES, keyOf } from '../../shared/db/keys.ts';
import { clientNameKey } from '../../shared/domain/client.ts';
import { createClientSchema } from '../../shared/domain/schemas.ts';
import { loadZod } from '../../shared/domain/zod.ts';
import { logger } from '../../shared/observability/powertools.ts';

/**
 * The stack floor (./stack-floor.ts) with its one read made through the DocumentClient and the key
 * templates instead of an ElectroDB entity: what a cold start would cost if the table were reached
 * without ElectroDB, the choice DESIGN.md makes. The same request, the same answer.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = process.env.TABLE_NAME ?? 'hangar';

// zod at import, as a function whose every request is validated would load it.
await loadZod();

export const handler = middy(async (event: { name?: string }) => {
  const parsed = createClientSchema.safeParse({ name: event.name ?? 'floor' });
  logger.debug('floor', { ok: parsed.success });
  const key = keyOf(KEY_TEMPLATES.clientName, { nameKey: clientNameKey(event.name ?? 'floor') });
  return doc.send(new GetCommand({ TableName: tableName, Key: key }));
});

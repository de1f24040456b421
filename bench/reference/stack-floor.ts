import middy from '@middy/core';
import { createDb } from '../../shared/db/db.ts';
import { tableEntities } from '../../shared/db/table-entities.ts';
import { clientNameKey } from '../../shared/domain/client.ts';
import { createClientSchema } from '../../shared/domain/schemas.ts';
import { loadZod } from '../../shared/domain/zod.ts';
import { logger } from '../../shared/observability/powertools.ts';

/**
 * The least an API function of this stack (DESIGN.md: middy, ElectroDB over the DocumentClient,
 * zod, Powertools) can carry: those libraries with one entity and Hangar's request schemas, and
 * none of Hangar's own services. Its one request reads one item through the entity. ElectroDB is
 * imported with the bundle, as a function that reads through an entity on every request would.
 */
const db = createDb({ tableName: process.env.TABLE_NAME ?? 'hangar' });
const entities = tableEntities(db.doc, db.tableName);

// zod at import, as a function whose every request is validated would load it.
await loadZod();

export const handler = middy(async (event: { name?: string }) => {
  const parsed = createClientSchema.safeParse({ name: event.name ?? 'floor' });
  logger.debug('floor', { ok: parsed.success });
  return entities.core.clientName.get({ nameKey: clientNameKey(event.name ?? 'floor') }).go();
});

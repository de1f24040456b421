import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoInstanceRepository } from '../../shared/adapters/dynamodb/instance-repository.ts';
import type { Db } from '../../shared/db/db.ts';

/**
 * Index items (tag and facet filters, the sweeper's due entries) came after some local tables
 * were made; a table from before gets them once, at the first start that finds no marker beside
 * it (infra/scripts/backfill-index-items.ts does the same for a deployed table). Returns how many
 * instances it went through, or null when the marker said it was done before.
 */
export async function backfillIndexItemsOnce(db: Db, home: string, log: (message: string) => void): Promise<number | null> {
  const marker = join(home, 'index-items-v1');
  if (await access(marker).then(() => true, () => false)) return null;
  const { instances } = await new DynamoInstanceRepository(db).backfillIndexItems();
  if (instances) log(`completed the index items of ${instances} instance(s) stored before them`);
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return instances;
}

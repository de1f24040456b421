import { type SyncTarget, scopeOfTarget, SHARED_SCOPE } from '../../domain/sync.ts';
import type { CatalogRepository, StoredCatalogItem } from '../../ports/catalog-repository.ts';
import type { CatalogKind } from '../../ports/compute-provider.ts';
import type { Page } from '../../ports/page.ts';
import type { Db } from '../../db/db.ts';
import { paged, pageOptions } from '../../db/pagination.ts';

const BATCH_RETRIES = 5;

/** The synced catalog, one partition per target, sorted by kind and id. */
export class DynamoCatalogRepository implements CatalogRepository {
  constructor(private readonly db: Db) {}

  private async catalogItems() {
    return (await this.db.entities()).core.catalogItem;
  }

  private keyOf(target: SyncTarget) {
    return { provider: target.provider, scope: scopeOfTarget(target), region: target.region };
  }

  /** Every stored item of one kind, deleted ones included: what a sync compares against. */
  async all(target: SyncTarget, kind: CatalogKind): Promise<StoredCatalogItem[]> {
    const { data } = await (await this.catalogItems()).query.byTarget({ ...this.keyOf(target), kind }).go({ pages: 'all' });
    return data.map(fromRecord);
  }

  /** One page for the API; deleted items only when asked. */
  async page(
    target: SyncTarget,
    kind: CatalogKind,
    options: { limit: number; cursor?: string; includeDeleted?: boolean },
  ): Promise<Page<StoredCatalogItem>> {
    const query = (await this.catalogItems()).query.byTarget({ ...this.keyOf(target), kind });
    const filtered = options.includeDeleted ? query : query.where(({ deletedAt }, { notExists }) => notExists(deletedAt));
    const page = await paged<Record<string, unknown>>(() => filtered.go(pageOptions(options)));
    return { items: page.items.map((record) => fromRecord(record as never)), cursor: page.cursor };
  }

  /** An item by the provider's id, or else by its name (first live match). */
  async find(target: SyncTarget, kind: CatalogKind, idOrName: string): Promise<StoredCatalogItem | null> {
    const { data } = await (await this.catalogItems()).get({ ...this.keyOf(target), kind, itemId: idOrName }).go();
    if (data) return fromRecord(data);
    const byName = (await this.all(target, kind)).filter((item) => item.name === idOrName);
    return byName.find((item) => !item.deletedAt) ?? byName[0] ?? null;
  }

  /**
   * Write items in batches of 25, retrying what DynamoDB leaves unprocessed. Returns the number
   * of items written; each is a whole item, so a retried batch is harmless.
   */
  async write(target: SyncTarget, items: StoredCatalogItem[]): Promise<number> {
    const scope = scopeOfTarget(target);
    let pending = items.map((item) => ({
      provider: target.provider,
      scope,
      region: target.region,
      kind: item.kind,
      itemId: item.id,
      name: item.name,
      ...(item.hourlyMicros !== undefined ? { hourlyMicros: item.hourlyMicros } : {}),
      attributes: item.attributes,
      fingerprint: item.fingerprint,
      clientId: target.clientId ?? SHARED_SCOPE,
      firstSeenAt: item.firstSeenAt,
      updatedAt: item.updatedAt,
      ...(item.deletedAt ? { deletedAt: item.deletedAt } : {}),
      syncJobId: item.syncJobId,
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_RETRIES) throw new Error(`DynamoDB left ${pending.length} catalog item(s) unwritten after ${BATCH_RETRIES} attempts`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const { unprocessed } = await (await this.catalogItems()).put(pending).go();
      const left = new Set(unprocessed.map((key) => `${key.kind}#${key.itemId}`));
      pending = pending.filter((item) => left.has(`${item.kind}#${item.itemId}`));
    }
    return items.length;
  }
}

function fromRecord(record: {
  provider: StoredCatalogItem['provider'];
  scope: string;
  region: string;
  kind: string;
  itemId: string;
  name: string;
  hourlyMicros?: number;
  attributes: unknown;
  fingerprint: string;
  firstSeenAt: string;
  updatedAt: string;
  deletedAt?: string;
  syncJobId: string;
}): StoredCatalogItem {
  return {
    kind: record.kind as CatalogKind,
    id: record.itemId,
    name: record.name,
    region: record.region,
    ...(record.hourlyMicros !== undefined ? { hourlyMicros: record.hourlyMicros } : {}),
    attributes: (record.attributes ?? {}) as Record<string, unknown>,
    provider: record.provider,
    ...(record.scope !== SHARED_SCOPE ? { accountId: record.scope } : {}),
    fingerprint: record.fingerprint,
    firstSeenAt: record.firstSeenAt,
    updatedAt: record.updatedAt,
    ...(record.deletedAt ? { deletedAt: record.deletedAt } : {}),
    syncJobId: record.syncJobId,
  };
}

import { type SyncTarget, scopeOfTarget, SHARED_SCOPE } from '../../domain/sync.ts';
import type { CatalogRepository, StoredCatalogItem } from '../../ports/catalog-repository.ts';
import type { CatalogKind } from '../../ports/compute-provider.ts';
import type { Page } from '../../ports/page.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/** The synced catalog in memory: one map per target, keyed by kind and id. */
export class MemoryCatalogRepository implements CatalogRepository {
  private readonly targets = new Map<string, Map<string, StoredCatalogItem>>();

  async all(target: SyncTarget, kind: CatalogKind): Promise<StoredCatalogItem[]> {
    return this.ofKind(target, kind).map(copy);
  }

  async page(
    target: SyncTarget,
    kind: CatalogKind,
    options: { limit: number; cursor?: string; includeDeleted?: boolean },
  ): Promise<Page<StoredCatalogItem>> {
    const items = this.ofKind(target, kind).filter((item) => options.includeDeleted || !item.deletedAt);
    const result = pageOf(`catalog/${partitionOf(target)}/${kind}`, items, (item) => item.id, options);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async find(target: SyncTarget, kind: CatalogKind, idOrName: string): Promise<StoredCatalogItem | null> {
    const items = this.ofKind(target, kind);
    const byId = items.find((item) => item.id === idOrName);
    if (byId) return copy(byId);
    const byName = items.filter((item) => item.name === idOrName);
    const found = byName.find((item) => !item.deletedAt) ?? byName[0];
    return found ? copy(found) : null;
  }

  async write(target: SyncTarget, items: StoredCatalogItem[]): Promise<number> {
    const partition = partitionOf(target);
    const stored = this.targets.get(partition) ?? new Map<string, StoredCatalogItem>();
    for (const item of items) stored.set(`${item.kind}#${item.id}`, asStored(target, item));
    this.targets.set(partition, stored);
    return items.length;
  }

  private ofKind(target: SyncTarget, kind: CatalogKind): StoredCatalogItem[] {
    const items = [...(this.targets.get(partitionOf(target))?.values() ?? [])].filter((item) => item.kind === kind);
    return sortedBy(items, (item) => item.id);
  }
}

const partitionOf = (target: SyncTarget) => `${target.provider}#${scopeOfTarget(target)}#${target.region}`;

/** What the table keeps: the target decides provider, region and account, as its key does. */
function asStored(target: SyncTarget, item: StoredCatalogItem): StoredCatalogItem {
  const { accountId: _accountId, hourlyMicros, deletedAt, ...rest } = copy(item);
  const scope = scopeOfTarget(target);
  return {
    ...rest,
    provider: target.provider,
    region: target.region,
    attributes: rest.attributes ?? {},
    ...(hourlyMicros !== undefined ? { hourlyMicros } : {}),
    ...(scope !== SHARED_SCOPE ? { accountId: scope } : {}),
    ...(deletedAt ? { deletedAt } : {}),
  };
}

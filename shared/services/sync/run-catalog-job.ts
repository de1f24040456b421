import type { CatalogKind } from '../../domain/catalog.ts';
import type { SyncTarget } from '../../domain/sync.ts';
import { fingerprintOf } from './catalog-fingerprint.ts';
import type { StoredCatalogItem } from '../../ports/catalog-repository.ts';
import type { ComputeProvider } from '../../ports/compute-provider.ts';
import { markSucceeded, type SyncDeps } from './sync-deps.ts';

export interface SyncCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

/**
 * Bring one catalog kind of a target up to date: new items created, changed ones rewritten,
 * missing ones marked deleted. An unchanged item is not written at all, so a quiet catalog
 * costs reads only.
 */
export function makeSyncCatalog(deps: Pick<SyncDeps, 'catalog' | 'syncs' | 'clock'>) {
  return async function syncCatalog(target: SyncTarget, kind: CatalogKind, provider: ComputeProvider, jobId: string): Promise<SyncCounts> {
    const at = deps.clock.now().toISOString();
    const [listed, stored] = await Promise.all([provider.listCatalog(kind), deps.catalog.all(target, kind)]);
    const storedById = new Map(stored.map((item) => [item.id, item]));
    const writes: StoredCatalogItem[] = [];
    const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const seen = new Set<string>();

    for (const item of listed) {
      if (seen.has(item.id)) continue; // a provider listing an id twice (pagination overlap)
      seen.add(item.id);
      const fingerprint = fingerprintOf(item);
      const before = storedById.get(item.id);
      if (before && !before.deletedAt && before.fingerprint === fingerprint) {
        counts.unchanged++;
        continue;
      }
      if (before) counts.updated++;
      else counts.created++;
      const { deletedAt: _deletedAt, ...kept } = before ?? ({} as Partial<StoredCatalogItem>);
      writes.push({
        ...kept,
        ...item,
        region: target.region,
        provider: target.provider,
        fingerprint,
        firstSeenAt: before?.firstSeenAt ?? at,
        updatedAt: at,
        syncJobId: jobId,
      });
    }
    for (const before of stored) {
      if (before.deletedAt || seen.has(before.id)) continue;
      counts.deleted++;
      writes.push({ ...before, deletedAt: at, updatedAt: at, syncJobId: jobId });
    }
    await deps.catalog.write(target, writes);
    await markSucceeded(deps, target, kind);
    return counts;
  };
}

import type { CatalogItem, CatalogKind } from './compute-provider.ts';
import type { SyncTarget } from '../domain/sync.ts';
import type { Page } from './page.ts';

/** A catalog entry as kept: what the provider listed, and when this side saw it change. */
export interface StoredCatalogItem extends CatalogItem {
  provider: SyncTarget['provider'];
  accountId?: string;
  /** Hash of name, price and attributes: an unchanged item is never written again. */
  fingerprint: string;
  firstSeenAt: string;
  updatedAt: string;
  /** Gone at the provider; the entry is kept. */
  deletedAt?: string;
  syncJobId: string;
}

/** The synced catalog, per target (provider, account or shared, region) and kind. */
export interface CatalogRepository {
  /** Every stored item of one kind, deleted ones included: what a sync compares against. */
  all(target: SyncTarget, kind: CatalogKind): Promise<StoredCatalogItem[]>;
  /** One page in id order; deleted items only when asked. */
  page(target: SyncTarget, kind: CatalogKind, options: { limit: number; cursor?: string; includeDeleted?: boolean }): Promise<Page<StoredCatalogItem>>;
  /** An item by the provider's id, or else by its name (a live match first). */
  find(target: SyncTarget, kind: CatalogKind, idOrName: string): Promise<StoredCatalogItem | null>;
  /** Create or replace whole items; returns how many were written. */
  write(target: SyncTarget, items: StoredCatalogItem[]): Promise<number>;
}

import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../domain/roles.ts';
import { describeTarget, type SyncTarget, targetKey } from '../domain/sync.ts';
import { parseInput } from '../domain/validate.ts';
import { catalogQuerySchema } from '../domain/schemas.ts';
import type { AccountRepository } from '../ports/account-repository.ts';
import type { CatalogRepository, StoredCatalogItem } from '../ports/catalog-repository.ts';
import type { SyncJobRepository } from '../ports/sync-job-repository.ts';
import type { CatalogItem, CatalogKind } from '../ports/compute-provider.ts';
import type { ProviderRegistry } from './provider-registry.ts';

/** URL spelling of each catalog kind. */
const KIND_BY_SEGMENT: Record<string, CatalogKind> = {
  flavors: 'flavors',
  'instance-types': 'flavors',
  images: 'images',
  networks: 'networks',
  subnets: 'subnets',
  'security-groups': 'securityGroups',
  'key-pairs': 'keyPairs',
};

export interface CatalogPage {
  kind: CatalogKind;
  source: 'synced' | 'live';
  items: (CatalogItem | StoredCatalogItem)[];
  cursor: string | null;
  /** When this kind last synced for the target; absent when it never has. */
  syncedAt?: string;
}

/** What a create names that the synced catalog can vouch for. */
export interface LaunchChoice {
  instanceType: string;
  image?: string;
}

/**
 * The catalog: the synced copy in the table (what GET /api/catalog serves and what a create is
 * checked against), or the provider read live on request.
 */
export function makeCatalogService(deps: { providers: ProviderRegistry; accounts: AccountRepository; catalog: CatalogRepository; syncs: SyncJobRepository }) {
  async function targetFor(principal: Principal, q: { accountId?: string; provider?: 'LOCAL'; region?: string; clientId?: string }): Promise<SyncTarget> {
    if (!q.accountId) {
      if (!q.provider) throw new ValidationError('Give accountId (a cloud account) or provider=LOCAL', [{ path: 'accountId', message: 'required' }]);
      return { provider: 'LOCAL', region: 'local' };
    }
    const account = isPlatformAdmin(principal)
      ? await deps.accounts.findById(q.accountId)
      : await deps.accounts.get(principal.clientId!, q.accountId);
    // Another client's account is a 404, so ids cannot be probed.
    if (!account || (q.clientId && account.clientId !== q.clientId)) throw new NotFoundError('Account', q.accountId);
    return { provider: account.provider, region: q.region ?? account.region, accountId: account.accountId, clientId: account.clientId };
  }

  async function list(principal: Principal, segment: string, query: unknown): Promise<CatalogPage> {
    requireRole(principal, 'viewer', 'read the catalog');
    const kind = KIND_BY_SEGMENT[segment];
    if (!kind) {
      throw new ValidationError(`Unknown catalog '${segment}'; expected one of ${Object.keys(KIND_BY_SEGMENT).join(', ')}`, [{ path: 'kind', message: 'unknown' }]);
    }
    const q = await parseInput(catalogQuerySchema, query ?? {}, 'query');
    const target = await targetFor(principal, q);
    if (q.source === 'live') {
      const provider = await deps.providers.forInstance({
        provider: target.provider,
        clientId: target.clientId ?? 'shared',
        region: target.region,
        config: target.accountId ? { accountId: target.accountId } : {},
      });
      return { kind, source: 'live', items: await provider.listCatalog(kind), cursor: null };
    }
    const [page, state] = await Promise.all([
      deps.catalog.page(target, kind, { limit: q.limit, cursor: q.cursor, includeDeleted: q.includeDeleted === 'true' }),
      deps.syncs.getState(targetKey(target), kind),
    ]);
    return { kind, source: 'synced', items: page.items, cursor: page.cursor, ...(state.lastSucceededAt ? { syncedAt: state.lastSucceededAt } : {}) };
  }

  /**
   * Refuse a flavor or image the target's synced catalog does not hold. A kind that has never
   * synced vouches for nothing, so the provider decides at launch (a new account works at once).
   * Returns the synced flavor, whose price the create may use.
   */
  async function checkLaunch(target: SyncTarget, choice: LaunchChoice): Promise<StoredCatalogItem | undefined> {
    const where = describeTarget(target);
    const flavorsSynced = (await deps.syncs.getState(targetKey(target), 'flavors')).lastSucceededAt;
    if (target.accountId && !flavorsSynced) {
      const home = await deps.accounts.get(target.clientId!, target.accountId);
      if (home && home.region !== target.region && (await deps.syncs.getState(targetKey({ ...target, region: home.region }), 'flavors')).lastSucceededAt) {
        throw new ValidationError(
          `Region '${target.region}' has no synced catalog for account ${target.accountId} (its region is '${home.region}'); sync it first with POST /api/sync {"accountId": "${target.accountId}", "region": "${target.region}"}`,
          [{ path: 'config.region', message: 'not synced' }],
          'UNKNOWN_REGION',
        );
      }
    }
    let flavor: StoredCatalogItem | undefined;
    if (flavorsSynced) {
      flavor = await mustExist(target, 'flavors', choice.instanceType, 'config.instanceType', `instance type`, where);
    }
    if (choice.image && (await deps.syncs.getState(targetKey(target), 'images')).lastSucceededAt) {
      await mustExist(target, 'images', choice.image, 'config.image', 'image', where);
    }
    return flavor;
  }

  async function mustExist(target: SyncTarget, kind: CatalogKind, idOrName: string, path: string, noun: string, where: string): Promise<StoredCatalogItem> {
    const item = await deps.catalog.find(target, kind, idOrName);
    if (item && !item.deletedAt) return item;
    const known = (await deps.catalog.page(target, kind, { limit: 10 })).items.map((i) => i.name);
    const reason = item?.deletedAt ? `was removed from ${where} at ${item.deletedAt}` : `is not in the catalog of ${where}`;
    throw new ValidationError(
      `The ${noun} '${idOrName}' ${reason}; ${known.length ? `available include: ${known.join(', ')}` : 'the catalog is empty'}`,
      [{ path, message: item?.deletedAt ? 'deleted' : 'unknown' }],
      kind === 'flavors' ? 'UNKNOWN_INSTANCE_TYPE' : 'UNKNOWN_IMAGE',
    );
  }

  return { list, checkLaunch };
}

export type CatalogService = ReturnType<typeof makeCatalogService>;

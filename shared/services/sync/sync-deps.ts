import { VersionConflictError } from '../../domain/errors.ts';
import { SHARED_SCOPE, type SyncResourceType, type SyncState, type SyncTarget, targetKey } from '../../domain/sync.ts';
import type { AccountRepository } from '../../ports/account-repository.ts';
import type { CatalogRepository } from '../../ports/catalog-repository.ts';
import type { ComputeProvider } from '../../ports/compute-provider.ts';
import type { SyncDispatcher } from '../../ports/sync-dispatcher.ts';
import type { SyncJobRepository } from '../../ports/sync-job-repository.ts';
import type { ServiceDeps } from '../deps.ts';

export interface SyncDeps extends ServiceDeps {
  catalog: CatalogRepository;
  syncs: SyncJobRepository;
  accounts: AccountRepository;
  dispatcher: SyncDispatcher;
}

/** The provider a target is read from: shared LOCAL, or the account's adapter in its region. */
export function providerFor(deps: Pick<ServiceDeps, 'providers'>, target: SyncTarget): Promise<ComputeProvider> {
  return deps.providers.forInstance({
    provider: target.provider,
    clientId: target.clientId ?? SHARED_SCOPE,
    region: target.region,
    config: target.accountId ? { accountId: target.accountId } : {},
  });
}

/**
 * Record a successful run in the target's state. Two runs of one target (a requested one
 * overlapping the periodic one) both did correct work; the later write wins rather than
 * failing the job over the state record.
 */
export async function markSucceeded(
  deps: Pick<SyncDeps, 'syncs' | 'clock'>,
  target: SyncTarget,
  type: SyncResourceType,
  changes: Partial<SyncState> = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = await deps.syncs.getState(targetKey(target), type);
    const { version: _version, ...rest } = before;
    try {
      await deps.syncs.saveState(before, { ...rest, ...changes, lastSucceededAt: deps.clock.now().toISOString() });
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 3) throw error;
    }
  }
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

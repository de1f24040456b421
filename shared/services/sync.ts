import { makeGetSyncJob, makeListSyncJobs } from './sync/read-sync-jobs.ts';
import { makeRequestSync, makeRunScheduledSync, makeSyncNewAccount } from './sync/queue-sync-jobs.ts';
import { makeRunSyncJobs } from './sync/run-sync-jobs.ts';
import type { SyncDeps } from './sync/sync-deps.ts';

export type { SyncDeps } from './sync/sync-deps.ts';

/**
 * Catalog sync and status reconciliation, one use case per file under ./sync/: queue jobs
 * (requested, periodic, for a new account; lost ones closed), run a target's jobs (a catalog
 * kind, or reconciliation decided by the domain's `reconcileDecision`), read jobs.
 */
export function makeSyncService(deps: SyncDeps) {
  return {
    runScheduled: makeRunScheduledSync(deps),
    syncNewAccount: makeSyncNewAccount(deps),
    request: makeRequestSync(deps),
    run: makeRunSyncJobs(deps),
    listJobs: makeListSyncJobs(deps),
    getJob: makeGetSyncJob(deps),
  };
}

export type SyncService = ReturnType<typeof makeSyncService>;

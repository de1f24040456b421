import { isCatalogKind, type SyncJob, type SyncTarget } from '../../domain/sync.ts';
import { makeSyncCatalog } from './run-catalog-job.ts';
import { makeReconcileInstances } from './reconcile-instances.ts';
import { errorText, providerFor, type SyncDeps } from './sync-deps.ts';

/**
 * Run the queued jobs of one target in turn (what the dispatcher delivers): each a catalog
 * kind or status reconciliation, recorded RUNNING then SUCCEEDED or FAILED; a failed job never
 * stops the next, and a job already run (a retried invocation) is not run again.
 */
export function makeRunSyncJobs(deps: SyncDeps) {
  const syncCatalog = makeSyncCatalog(deps);
  const reconcileInstances = makeReconcileInstances(deps);

  async function runJob(target: SyncTarget, queued: SyncJob): Promise<SyncJob> {
    const job: SyncJob = { ...queued, status: 'RUNNING', startedAt: deps.clock.now().toISOString() };
    await deps.syncs.putJob(job);
    try {
      const provider = await providerFor(deps, target);
      const result = isCatalogKind(job.resourceType)
        ? await syncCatalog(target, job.resourceType, provider, job.jobId)
        : await reconcileInstances(target, provider);
      const completed: SyncJob = { ...job, ...result, status: 'SUCCEEDED', completedAt: deps.clock.now().toISOString() };
      await deps.syncs.putJob(completed);
      return completed;
    } catch (error) {
      const failed: SyncJob = { ...job, status: 'FAILED', completedAt: deps.clock.now().toISOString(), errors: [errorText(error)] };
      await deps.syncs.putJob(failed);
      return failed;
    }
  }

  return async function runSyncJobs(target: SyncTarget, jobIds: string[]): Promise<SyncJob[]> {
    const done: SyncJob[] = [];
    for (const jobId of jobIds) {
      const queued = await deps.syncs.getJob(jobId);
      if (!queued || queued.status !== 'QUEUED') continue;
      done.push(await runJob(target, queued));
    }
    return done;
  };
}

import { composeHangar } from '../../shared/config/composition.ts';
import { schedulerOnFirstUse } from '../../shared/config/on-first-use/scheduler.ts';
import { syncDispatcherOnFirstUse } from '../../shared/config/on-first-use/sync-dispatcher.ts';
import { workflowsOnFirstUse } from '../../shared/config/on-first-use/workflows.ts';
import { deployedMachinePieces } from '../../shared/config/shared-providers.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';
import type { SyncRun } from '../../shared/ports/sync-dispatcher.ts';

/**
 * Two callers. The 5-minute schedule sends `{}`: queue a job per target and resource type and
 * hand each target to its own asynchronous invocation. Those invocations (and POST /api/sync)
 * send `{ run }`: run that target's queued jobs.
 */
export const handler = scheduledJob(
  () =>
    composeHangar({
      ...deployedMachinePieces(),
      // Only the scheduled fan-out hands runs off; a run itself never does.
      syncDispatcher: syncDispatcherOnFirstUse,
      // Reconciliation closes ghosts: their deadlines are cancelled and workflows may start.
      scheduler: schedulerOnFirstUse(),
      workflows: workflowsOnFirstUse,
    }),
  async (deps, event: { run?: SyncRun }): Promise<{ queued?: number; ran?: number; failed?: number }> => {
    if (event?.run) {
      const jobs = await deps.services.sync.run(event.run.target, event.run.jobIds);
      const failed = jobs.filter((j) => j.status === 'FAILED');
      for (const job of failed) logger.warn('Sync job failed', { jobId: job.jobId, resourceType: job.resourceType, errors: job.errors });
      return { ran: jobs.length, failed: failed.length };
    }
    const queued = await deps.services.sync.runScheduled();
    logger.info('Queued the periodic sync', { queued: queued.length });
    return { queued: queued.length };
  },
);

import { NotFoundError } from '../../domain/errors.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../../domain/roles.ts';
import { listSyncJobsQuerySchema } from '../../domain/schemas.ts';
import { SHARED_SCOPE, type SyncJob } from '../../domain/sync.ts';
import { parseInput } from '../../domain/validate.ts';
import type { Page } from '../../ports/page.ts';
import type { SyncDeps } from './sync-deps.ts';

/** LOCAL's reconciliation spans every client: a client sees only findings about its own instances. */
function visibleTo(principal: Principal, job: SyncJob): SyncJob {
  if (isPlatformAdmin(principal) || !job.findings) return job;
  return { ...job, findings: job.findings.filter((f) => f.clientId === principal.clientId) };
}

/** GET /api/sync-jobs (listSyncJobs): newest first; a client reads its own accounts' jobs. */
export function makeListSyncJobs(deps: Pick<SyncDeps, 'syncs'>) {
  return async function listSyncJobs(principal: Principal, query: unknown): Promise<Page<SyncJob>> {
    requireRole(principal, 'viewer', 'read sync jobs');
    const q = await parseInput(listSyncJobsQuerySchema, query ?? {}, 'query');
    const clientId = isPlatformAdmin(principal) ? q.clientId : principal.clientId!;
    if (!isPlatformAdmin(principal) && q.clientId && q.clientId !== principal.clientId) throw new NotFoundError('Client', q.clientId);
    const page = await deps.syncs.listJobs({ resourceType: q.type, clientId }, { limit: q.limit, cursor: q.cursor });
    return { ...page, items: page.items.map((job) => visibleTo(principal, job)) };
  };
}

/** GET /api/sync-jobs/{id} (getSyncJob): a client reads its own accounts' jobs, and a LOCAL job by id (it may have asked for it). */
export function makeGetSyncJob(deps: Pick<SyncDeps, 'syncs'>) {
  return async function getSyncJob(principal: Principal, jobId: string): Promise<SyncJob> {
    requireRole(principal, 'viewer', 'read sync jobs');
    const job = await deps.syncs.getJob(jobId);
    if (!job || !(isPlatformAdmin(principal) || job.clientId === principal.clientId || job.clientId === SHARED_SCOPE)) {
      throw new NotFoundError('Sync job', jobId);
    }
    return visibleTo(principal, job);
  };
}

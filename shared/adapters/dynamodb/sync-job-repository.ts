import { VersionConflictError } from '../../domain/errors.ts';
import type { SyncJob, SyncResourceType, SyncState } from '../../domain/sync.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { SyncJobRepository } from '../../ports/sync-job-repository.ts';
import type { Db } from '../../db/db.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { isConditionFailure } from '../../db/transactions.ts';

const JOB_RETENTION_SECONDS = 30 * 24 * 3600;

/** Sync jobs (kept 30 days) and the state each target carries between runs. */
export class DynamoSyncJobRepository implements SyncJobRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).core;
  }

  /** Create or replace a job record; jobs are written by one runner at a time. */
  async putJob(job: SyncJob): Promise<void> {
    const ttl = Math.floor(Date.parse(job.queuedAt) / 1000) + JOB_RETENTION_SECONDS;
    await (await this.entities()).syncJob.put({ ...job, ttl }).go();
  }

  async getJob(jobId: string): Promise<SyncJob | null> {
    const { data } = await (await this.entities()).syncJob.get({ jobId }).go({ consistent: true });
    return data ? toJob(data) : null;
  }

  /** Newest first; by resource type, by the owning client, or all. */
  async listJobs(filter: { resourceType?: SyncResourceType; clientId?: string }, page: PageRequest): Promise<Page<SyncJob>> {
    const options = { ...pageOptions(page), order: 'desc' as const };
    const { syncJob } = await this.entities();
    const run = () => {
      if (filter.clientId) {
        const query = syncJob.query.byClient({ clientId: filter.clientId });
        const type = filter.resourceType;
        return (type ? query.where(({ resourceType }, { eq }) => eq(resourceType, type)) : query).go(options);
      }
      if (filter.resourceType) return syncJob.query.byType({ resourceType: filter.resourceType }).go(options);
      return syncJob.query.byId({}).go(options);
    };
    const result = await paged<Record<string, unknown>>(run as never);
    return { items: result.items.map((item) => toJob(item as never)), cursor: result.cursor };
  }

  async getState(targetKey: string, resourceType: SyncResourceType): Promise<SyncState> {
    const { data } = await (await this.entities()).syncState.get({ targetKey, resourceType }).go({ consistent: true });
    return (data as SyncState | null) ?? { targetKey, resourceType, version: 0 };
  }

  /** Replace the state if still at `before.version`: two runs of one target cannot both win. */
  async saveState(before: SyncState, after: Omit<SyncState, 'version'>): Promise<SyncState> {
    const next = { ...after, version: before.version + 1 };
    try {
      const put = (await this.entities()).syncState.put(next);
      await (before.version === 0
        ? put.where(({ version }, { notExists }) => notExists(version))
        : put.where(({ version }, { eq }) => eq(version, before.version))
      ).go();
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError('Sync state', `${before.targetKey}/${before.resourceType}`);
      throw error;
    }
    return next;
  }
}

function toJob(record: SyncJob & { ttl?: number }): SyncJob {
  const { ttl: _ttl, ...job } = record as SyncJob & { ttl?: number; entityType?: string };
  delete (job as { entityType?: string }).entityType;
  return { ...job, errors: job.errors ?? [] };
}

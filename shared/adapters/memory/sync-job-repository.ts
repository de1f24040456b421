import { VersionConflictError } from '../../domain/errors.ts';
import type { SyncJob, SyncResourceType, SyncState } from '../../domain/sync.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { SyncJobRepository } from '../../ports/sync-job-repository.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/** Sync jobs and per-target sync state in memory; jobs never expire here. */
export class MemorySyncJobRepository implements SyncJobRepository {
  private readonly jobs = new Map<string, SyncJob>();
  private readonly states = new Map<string, SyncState>();

  async putJob(job: SyncJob): Promise<void> {
    this.jobs.set(job.jobId, copy(job));
  }

  async getJob(jobId: string): Promise<SyncJob | null> {
    const stored = this.jobs.get(jobId);
    return stored ? copy(stored) : null;
  }

  async listJobs(filter: { resourceType?: SyncResourceType; clientId?: string }, page: PageRequest): Promise<Page<SyncJob>> {
    const matching = [...this.jobs.values()].filter(
      (job) => (!filter.clientId || job.clientId === filter.clientId) && (!filter.resourceType || job.resourceType === filter.resourceType),
    );
    // Job ids are ULIDs: newest first is descending id order.
    const list = `sync-jobs/${filter.clientId ?? ''}/${filter.clientId ? '' : (filter.resourceType ?? '')}`;
    const result = pageOf(list, sortedBy(matching, (job) => job.jobId, 'desc'), (job) => job.jobId, page, 'desc');
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async getState(targetKey: string, resourceType: SyncResourceType): Promise<SyncState> {
    const stored = this.states.get(stateKey(targetKey, resourceType));
    return stored ? copy(stored) : { targetKey, resourceType, version: 0 };
  }

  async saveState(before: SyncState, after: Omit<SyncState, 'version'>): Promise<SyncState> {
    const key = stateKey(before.targetKey, before.resourceType);
    const current = this.states.get(key)?.version ?? 0;
    if (current !== before.version) throw new VersionConflictError('Sync state', `${before.targetKey}/${before.resourceType}`);
    const next = { ...copy(after), version: before.version + 1 };
    this.states.set(key, next);
    return copy(next);
  }
}

const stateKey = (targetKey: string, resourceType: SyncResourceType) => `${targetKey}#${resourceType}`;

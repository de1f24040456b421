import type { SyncJob, SyncResourceType, SyncState } from '../domain/sync.ts';
import type { Page, PageRequest } from './page.ts';

/** Sync job records, and the state each target carries from one run to the next. */
export interface SyncJobRepository {
  /** Create or replace a job record; a job is written by one runner at a time. */
  putJob(job: SyncJob): Promise<void>;
  getJob(jobId: string): Promise<SyncJob | null>;
  /** Newest first; by resource type, by the owning client, both, or all. */
  listJobs(filter: { resourceType?: SyncResourceType; clientId?: string }, page: PageRequest): Promise<Page<SyncJob>>;
  /** The target's state, or a fresh one at version 0. */
  getState(targetKey: string, resourceType: SyncResourceType): Promise<SyncState>;
  /** Replace the state if still at `before.version` (else VersionConflictError); returns it at the next version. */
  saveState(before: SyncState, after: Omit<SyncState, 'version'>): Promise<SyncState>;
}

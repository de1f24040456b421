import type { SyncTarget } from '../domain/sync.ts';

/** The queued jobs of one target, handed to whatever runs them. */
export interface SyncRun {
  target: SyncTarget;
  jobIds: string[];
}

/**
 * Runs sync jobs away from the request that queued them, so `POST /api/sync` answers at once:
 * on AWS an asynchronous invocation of the sync function, locally a task in the same process.
 */
export interface SyncDispatcher {
  dispatch(run: SyncRun): Promise<void>;
}

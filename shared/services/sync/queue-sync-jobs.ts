import type { Account } from '../../domain/account.ts';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../../domain/roles.ts';
import { syncRequestSchema } from '../../domain/schemas.ts';
import { SHARED_SCOPE, SYNC_RESOURCE_TYPES, type SyncJob, type SyncResourceType, type SyncTarget } from '../../domain/sync.ts';
import { parseInput } from '../../domain/validate.ts';
import { monotonicFactory } from 'ulid';
import { errorText, type SyncDeps } from './sync-deps.ts';

const nextJobUlid = monotonicFactory();
/** A job still QUEUED or RUNNING this long after it was queued was lost (a timeout, a crash). */
export const LOST_AFTER_MS = 15 * 60_000;

type QueueDeps = Pick<SyncDeps, 'syncs' | 'dispatcher' | 'accounts' | 'providers' | 'clock'>;

const accountTarget = (account: Pick<Account, 'provider' | 'region' | 'accountId' | 'clientId'>, region = account.region): SyncTarget => ({
  provider: account.provider,
  region,
  accountId: account.accountId,
  clientId: account.clientId,
});

/** Every target the periodic sync covers: LOCAL when this deployment runs it, and each account in its region. */
async function allTargets(deps: QueueDeps): Promise<SyncTarget[]> {
  const targets: SyncTarget[] = [];
  if (deps.providers.names().includes('LOCAL')) targets.push({ provider: 'LOCAL', region: 'local' });
  for (const account of await deps.accounts.listAll()) targets.push(accountTarget(account));
  return targets;
}

function newJob(now: Date, target: SyncTarget, resourceType: SyncResourceType, trigger: SyncJob['trigger'], requestedBy?: string): SyncJob {
  return {
    // Time-ordered, so the job list reads newest first straight from the sort key.
    jobId: `sync-${nextJobUlid(now.getTime())}`,
    resourceType,
    provider: target.provider,
    region: target.region,
    ...(target.accountId ? { accountId: target.accountId } : {}),
    clientId: target.clientId ?? SHARED_SCOPE,
    trigger,
    ...(requestedBy ? { requestedBy } : {}),
    status: 'QUEUED',
    queuedAt: now.toISOString(),
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    errors: [],
  };
}

/**
 * Record the jobs as QUEUED, then hand them to the dispatcher; a job is never run unrecorded.
 * If nothing will run them, the records say so (FAILED) instead of staying QUEUED forever.
 */
async function enqueue(deps: QueueDeps, target: SyncTarget, types: readonly SyncResourceType[], trigger: SyncJob['trigger'], requestedBy?: string) {
  const jobs = types.map((type) => newJob(deps.clock.now(), target, type, trigger, requestedBy));
  for (const job of jobs) await deps.syncs.putJob(job);
  try {
    await deps.dispatcher.dispatch({ target, jobIds: jobs.map((j) => j.jobId) });
    return { jobs };
  } catch (error) {
    const message = `Could not start the sync: ${errorText(error)}`;
    const failed = jobs.map((job): SyncJob => ({ ...job, status: 'FAILED', completedAt: deps.clock.now().toISOString(), errors: [message] }));
    for (const job of failed) await deps.syncs.putJob(job);
    return { jobs: failed, error };
  }
}

async function queue(deps: QueueDeps, target: SyncTarget, types: readonly SyncResourceType[], requestedBy: string): Promise<SyncJob[]> {
  const { jobs, error } = await enqueue(deps, target, types, 'request', requestedBy);
  if (error) throw error;
  return jobs;
}

/** A newly registered account syncs at once, so its catalog is there for the first create. */
export function makeSyncNewAccount(deps: QueueDeps) {
  return async function syncNewAccount(account: Account, requestedBy: string): Promise<SyncJob[]> {
    // The account is stored either way; a sync that could not start is on its jobs, not thrown.
    return (await enqueue(deps, accountTarget(account), SYNC_RESOURCE_TYPES, 'request', requestedBy)).jobs;
  };
}

/**
 * Jobs whose run was lost — the invocation timed out or crashed, or was never delivered —
 * would claim QUEUED or RUNNING forever; the periodic run closes them as FAILED.
 */
export function makeCloseLostJobs(deps: Pick<SyncDeps, 'syncs' | 'clock'>) {
  return async function closeLostJobs(): Promise<number> {
    const cutoff = deps.clock.now().getTime() - LOST_AFTER_MS;
    const recent = await deps.syncs.listJobs({}, { limit: 100 });
    const lost = recent.items.filter((job) => (job.status === 'QUEUED' || job.status === 'RUNNING') && Date.parse(job.queuedAt) < cutoff);
    for (const job of lost) {
      const message = `The job was ${job.status === 'QUEUED' ? 'never started' : 'interrupted'}: no result within ${LOST_AFTER_MS / 60_000} minutes of being queued`;
      await deps.syncs.putJob({ ...job, status: 'FAILED', completedAt: deps.clock.now().toISOString(), errors: [...job.errors, message] });
    }
    return lost.length;
  };
}

/** The periodic run: close lost jobs, then queue every target's every resource type. */
export function makeRunScheduledSync(deps: QueueDeps) {
  const closeLostJobs = makeCloseLostJobs(deps);
  return async function runScheduledSync(): Promise<SyncJob[]> {
    await closeLostJobs();
    const queued: SyncJob[] = [];
    // One target that cannot be dispatched must not hold up the others; its jobs say why.
    for (const target of await allTargets(deps)) queued.push(...(await enqueue(deps, target, SYNC_RESOURCE_TYPES, 'schedule')).jobs);
    return queued;
  };
}

/** POST /api/sync (requestSync): one account, LOCAL, or (platform admin) everything; 202 with the queued jobs. */
export function makeRequestSync(deps: QueueDeps) {
  return async function requestSync(principal: Principal, body: unknown): Promise<SyncJob[]> {
    requireRole(principal, 'operator', 'start a sync');
    const input = await parseInput(syncRequestSchema, body ?? {}, 'sync');
    const types = input.types ?? SYNC_RESOURCE_TYPES;
    const by = principal.keyId;
    if (input.accountId && input.provider) {
      throw new ValidationError('Give accountId or provider, not both', [{ path: 'provider', message: 'not with accountId' }]);
    }
    if (input.accountId) {
      const account = isPlatformAdmin(principal) ? await deps.accounts.findById(input.accountId) : await deps.accounts.get(principal.clientId!, input.accountId);
      if (!account) throw new NotFoundError('Account', input.accountId);
      return queue(deps, accountTarget(account, input.region ?? account.region), types, by);
    }
    if (input.provider === 'LOCAL') {
      if (input.region && input.region !== 'local') {
        throw new ValidationError("LOCAL has one region, 'local'", [{ path: 'region', message: 'unknown region' }]);
      }
      if (!deps.providers.names().includes('LOCAL')) {
        throw new ValidationError('LOCAL is not available in this deployment', [{ path: 'provider', message: 'not available' }], 'PROVIDER_NOT_AVAILABLE');
      }
      return queue(deps, { provider: 'LOCAL', region: 'local' }, types, by);
    }
    if (input.region) throw new ValidationError('region needs an accountId', [{ path: 'region', message: 'give accountId too' }]);
    const targets = isPlatformAdmin(principal)
      ? await allTargets(deps)
      : (await deps.accounts.listAll()).filter((a) => a.clientId === principal.clientId).map((a) => accountTarget(a));
    if (targets.length === 0) {
      throw new ValidationError('Nothing to sync: register an account with POST /api/accounts, or give provider=LOCAL', [], 'NOTHING_TO_SYNC');
    }
    const jobs: SyncJob[] = [];
    for (const target of targets) jobs.push(...(await queue(deps, target, types, by)));
    return jobs;
  };
}

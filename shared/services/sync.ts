import { reconcilePolicyOf } from '../domain/client.ts';
import { NotFoundError, ValidationError, VersionConflictError } from '../domain/errors.ts';
import { SYSTEM_ACTOR } from '../domain/events.ts';
import { monotonicFactory } from 'ulid';
import type { Instance } from '../domain/instance.ts';
import { canApply, type InstanceAction, type InstanceStatus } from '../domain/lifecycle.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../domain/roles.ts';
import {
  isCatalogKind,
  type ReconcileFinding,
  SHARED_SCOPE,
  SYNC_RESOURCE_TYPES,
  type SyncJob,
  type SyncResourceType,
  type SyncState,
  type SyncTarget,
  targetKey,
} from '../domain/sync.ts';
import { parseInput } from '../domain/validate.ts';
import { listSyncJobsQuerySchema, syncRequestSchema } from '../domain/schemas.ts';
import type { Account } from '../domain/account.ts';
import type { AccountRepository } from '../ports/account-repository.ts';
import type { CatalogRepository, StoredCatalogItem } from '../ports/catalog-repository.ts';
import { fingerprintOf } from '../db/catalog-fingerprint.ts';
import type { Page } from '../ports/page.ts';
import type { SyncJobRepository } from '../ports/sync-job-repository.ts';
import type { CatalogKind, ComputeProvider, Machine, MachineRef } from '../ports/compute-provider.ts';
import type { SyncDispatcher } from '../ports/sync-dispatcher.ts';
import type { ServiceDeps } from './deps.ts';
import { mutateInstance, transition } from './instance-changes.ts';

const ACTOR = SYSTEM_ACTOR('sync');
const nextJobUlid = monotonicFactory();
/** A job still QUEUED or RUNNING this long after it was queued was lost (a timeout, a crash). */
const LOST_AFTER_MS = 15 * 60_000;
/** Statuses reconciliation judges; in the others a workflow is at work and has the last word. */
const SETTLED: readonly InstanceStatus[] = ['READY', 'RUNNING', 'STOPPED', 'ERROR'];
/** An incremental reconciliation is trusted this long; then a full one checks everything. */
const FULL_RECONCILE_EVERY_MS = 60 * 60_000;
/** Provider clocks differ from ours: ask for changes since a little before the last run. */
const CLOCK_SKEW_MS = 2 * 60_000;

/** A provider that can list only what changed (OpenStack's changes-since). */
interface IncrementalProvider extends ComputeProvider {
  listChangedSince(since: Date): Promise<Machine[]>;
}
const isIncremental = (provider: ComputeProvider): provider is IncrementalProvider =>
  typeof (provider as Partial<IncrementalProvider>).listChangedSince === 'function';

export interface SyncDeps extends ServiceDeps {
  catalog: CatalogRepository;
  syncs: SyncJobRepository;
  accounts: AccountRepository;
  dispatcher: SyncDispatcher;
}

/**
 * Catalog sync and status reconciliation. One job per target (an account in a region, or
 * LOCAL) and resource type; every run is a job record, and only what changed is written.
 */
export function makeSyncService(deps: SyncDeps) {
  const now = () => deps.clock.now();

  // ---------------------------------------------------------------- targets and queueing

  /** Every target the periodic sync covers: LOCAL when this deployment runs it, and each account in its region. */
  async function allTargets(): Promise<SyncTarget[]> {
    const targets: SyncTarget[] = [];
    if (deps.providers.names().includes('LOCAL')) targets.push({ provider: 'LOCAL', region: 'local' });
    for (const account of await deps.accounts.listAll()) {
      targets.push({ provider: account.provider, region: account.region, accountId: account.accountId, clientId: account.clientId });
    }
    return targets;
  }

  function newJob(target: SyncTarget, resourceType: SyncResourceType, trigger: SyncJob['trigger'], requestedBy?: string): SyncJob {
    return {
      // Time-ordered, so the job list reads newest first straight from the sort key.
      jobId: `sync-${nextJobUlid(now().getTime())}`,
      resourceType,
      provider: target.provider,
      region: target.region,
      ...(target.accountId ? { accountId: target.accountId } : {}),
      clientId: target.clientId ?? SHARED_SCOPE,
      trigger,
      ...(requestedBy ? { requestedBy } : {}),
      status: 'QUEUED',
      queuedAt: now().toISOString(),
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
  async function enqueue(target: SyncTarget, types: readonly SyncResourceType[], trigger: SyncJob['trigger'], requestedBy?: string) {
    const jobs = types.map((type) => newJob(target, type, trigger, requestedBy));
    for (const job of jobs) await deps.syncs.putJob(job);
    try {
      await deps.dispatcher.dispatch({ target, jobIds: jobs.map((j) => j.jobId) });
      return { jobs };
    } catch (error) {
      const message = `Could not start the sync: ${errorText(error)}`;
      const failed = jobs.map((job): SyncJob => ({ ...job, status: 'FAILED', completedAt: now().toISOString(), errors: [message] }));
      for (const job of failed) await deps.syncs.putJob(job);
      return { jobs: failed, error };
    }
  }

  async function queue(target: SyncTarget, types: readonly SyncResourceType[], trigger: SyncJob['trigger'], requestedBy?: string) {
    const { jobs, error } = await enqueue(target, types, trigger, requestedBy);
    if (error) throw error;
    return jobs;
  }

  /** A newly registered account syncs at once, so its catalog is there for the first create. */
  async function syncNewAccount(account: Account, requestedBy: string): Promise<SyncJob[]> {
    const target = { provider: account.provider, region: account.region, accountId: account.accountId, clientId: account.clientId };
    // The account is stored either way; a sync that could not start is on its jobs, not thrown.
    return (await enqueue(target, SYNC_RESOURCE_TYPES, 'request', requestedBy)).jobs;
  }

  /**
   * Jobs whose run was lost — the invocation timed out or crashed, or was never delivered —
   * would claim QUEUED or RUNNING forever; the periodic run closes them as FAILED.
   */
  async function failLostJobs(): Promise<number> {
    const cutoff = now().getTime() - LOST_AFTER_MS;
    const recent = await deps.syncs.listJobs({}, { limit: 100 });
    const lost = recent.items.filter((job) => (job.status === 'QUEUED' || job.status === 'RUNNING') && Date.parse(job.queuedAt) < cutoff);
    for (const job of lost) {
      const message = `The job was ${job.status === 'QUEUED' ? 'never started' : 'interrupted'}: no result within ${LOST_AFTER_MS / 60_000} minutes of being queued`;
      await deps.syncs.putJob({ ...job, status: 'FAILED', completedAt: now().toISOString(), errors: [...job.errors, message] });
    }
    return lost.length;
  }

  /** The periodic run: every target, every resource type. */
  async function runScheduled(): Promise<SyncJob[]> {
    await failLostJobs();
    const queued: SyncJob[] = [];
    // One target that cannot be dispatched must not hold up the others; its jobs say why.
    for (const target of await allTargets()) queued.push(...(await enqueue(target, SYNC_RESOURCE_TYPES, 'schedule')).jobs);
    return queued;
  }

  /** POST /api/sync: one account, LOCAL, or (platform admin) everything. */
  async function request(principal: Principal, body: unknown): Promise<SyncJob[]> {
    requireRole(principal, 'operator', 'start a sync');
    const input = parseInput(syncRequestSchema, body ?? {}, 'sync');
    const types = input.types ?? SYNC_RESOURCE_TYPES;
    const by = principal.keyId;
    if (input.accountId && input.provider) {
      throw new ValidationError('Give accountId or provider, not both', [{ path: 'provider', message: 'not with accountId' }]);
    }
    if (input.accountId) {
      const account = isPlatformAdmin(principal)
        ? await deps.accounts.findById(input.accountId)
        : await deps.accounts.get(principal.clientId!, input.accountId);
      if (!account) throw new NotFoundError('Account', input.accountId);
      const target = { provider: account.provider, region: input.region ?? account.region, accountId: account.accountId, clientId: account.clientId };
      return queue(target, types, 'request', by);
    }
    if (input.provider === 'LOCAL') {
      if (input.region && input.region !== 'local') {
        throw new ValidationError("LOCAL has one region, 'local'", [{ path: 'region', message: 'unknown region' }]);
      }
      if (!deps.providers.names().includes('LOCAL')) {
        throw new ValidationError('LOCAL is not available in this deployment', [{ path: 'provider', message: 'not available' }], 'PROVIDER_NOT_AVAILABLE');
      }
      return queue({ provider: 'LOCAL', region: 'local' }, types, 'request', by);
    }
    if (input.region) throw new ValidationError('region needs an accountId', [{ path: 'region', message: 'give accountId too' }]);
    const targets = isPlatformAdmin(principal)
      ? await allTargets()
      : (await deps.accounts.listAll())
          .filter((a) => a.clientId === principal.clientId)
          .map((a) => ({ provider: a.provider, region: a.region, accountId: a.accountId, clientId: a.clientId }));
    if (targets.length === 0) {
      throw new ValidationError('Nothing to sync: register an account with POST /api/accounts, or give provider=LOCAL', [], 'NOTHING_TO_SYNC');
    }
    const jobs: SyncJob[] = [];
    for (const target of targets) jobs.push(...(await queue(target, types, 'request', by)));
    return jobs;
  }

  // ---------------------------------------------------------------- running jobs

  /** Run the queued jobs of one target in turn; a failed job never stops the next. */
  async function run(target: SyncTarget, jobIds: string[]): Promise<SyncJob[]> {
    const done: SyncJob[] = [];
    for (const jobId of jobIds) {
      const queued = await deps.syncs.getJob(jobId);
      if (!queued || queued.status !== 'QUEUED') continue; // already run (a retried invocation)
      done.push(await runJob(target, queued));
    }
    return done;
  }

  async function runJob(target: SyncTarget, queued: SyncJob): Promise<SyncJob> {
    const job: SyncJob = { ...queued, status: 'RUNNING', startedAt: now().toISOString() };
    await deps.syncs.putJob(job);
    try {
      const provider = await providerFor(target);
      const result = isCatalogKind(job.resourceType)
        ? await syncCatalog(target, job.resourceType, provider, job.jobId)
        : await reconcile(target, provider);
      const completed: SyncJob = { ...job, ...result, status: 'SUCCEEDED', completedAt: now().toISOString() };
      await deps.syncs.putJob(completed);
      return completed;
    } catch (error) {
      const failed: SyncJob = { ...job, status: 'FAILED', completedAt: now().toISOString(), errors: [errorText(error)] };
      await deps.syncs.putJob(failed);
      return failed;
    }
  }

  function providerFor(target: SyncTarget): Promise<ComputeProvider> {
    return deps.providers.forInstance({
      provider: target.provider,
      clientId: target.clientId ?? SHARED_SCOPE,
      region: target.region,
      config: target.accountId ? { accountId: target.accountId } : {},
    });
  }

  // ---------------------------------------------------------------- catalog

  /**
   * Bring one catalog kind up to date: new items created, changed ones rewritten, missing ones
   * marked deleted. An unchanged item is not written at all, so a quiet catalog costs reads only.
   */
  async function syncCatalog(target: SyncTarget, kind: CatalogKind, provider: ComputeProvider, jobId: string) {
    const at = now().toISOString();
    const [listed, stored] = await Promise.all([provider.listCatalog(kind), deps.catalog.all(target, kind)]);
    const storedById = new Map(stored.map((item) => [item.id, item]));
    const writes: StoredCatalogItem[] = [];
    const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const seen = new Set<string>();

    for (const item of listed) {
      if (seen.has(item.id)) continue; // a provider listing an id twice (pagination overlap)
      seen.add(item.id);
      const fingerprint = fingerprintOf(item);
      const before = storedById.get(item.id);
      if (before && !before.deletedAt && before.fingerprint === fingerprint) {
        counts.unchanged++;
        continue;
      }
      if (before) counts.updated++;
      else counts.created++;
      const { deletedAt: _deletedAt, ...kept } = before ?? ({} as Partial<StoredCatalogItem>);
      writes.push({
        ...kept,
        ...item,
        region: target.region,
        provider: target.provider,
        fingerprint,
        firstSeenAt: before?.firstSeenAt ?? at,
        updatedAt: at,
        syncJobId: jobId,
      });
    }
    for (const before of stored) {
      if (before.deletedAt || seen.has(before.id)) continue;
      counts.deleted++;
      writes.push({ ...before, deletedAt: at, updatedAt: at, syncJobId: jobId });
    }
    await deps.catalog.write(target, writes);
    await markSucceeded(target, kind);
    return counts;
  }

  /**
   * Two runs of one target (a requested one overlapping the periodic one) both did correct
   * work; the later write wins rather than failing the job over the state record.
   */
  async function markSucceeded(target: SyncTarget, type: SyncResourceType, changes: Partial<SyncState> = {}) {
    for (let attempt = 1; ; attempt++) {
      const before = await deps.syncs.getState(targetKey(target), type);
      const { version: _version, ...rest } = before;
      try {
        await deps.syncs.saveState(before, { ...rest, ...changes, lastSucceededAt: now().toISOString() });
        return;
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= 3) throw error;
      }
    }
  }

  // ---------------------------------------------------------------- status reconciliation

  /**
   * Live records of the target in settled statuses: what reconciliation may judge. An account's
   * are read from its client's partition, so each account's run does not scan every client's.
   */
  async function recordsOf(target: SyncTarget): Promise<Instance[]> {
    const candidates =
      target.accountId && target.clientId
        ? await deps.instances.listByAccount(target.clientId, target.accountId, SETTLED)
        : (await Promise.all(SETTLED.map((status) => deps.instances.listByStatus(status, target.provider)))).flat();
    return candidates.filter((i) => i.region === target.region && (i.config.accountId ?? undefined) === target.accountId && i.providerInstanceId);
  }

  /**
   * Compare the provider's machines with the records: correct drift, report orphans and ghosts,
   * and act on them once they outlast the client's grace period — a record is closed only after
   * the provider confirms its machine is gone.
   */
  async function reconcile(target: SyncTarget, provider: ComputeProvider) {
    const started = now();
    const state = await deps.syncs.getState(targetKey(target), 'instances');
    const incremental =
      isIncremental(provider) &&
      !!state.watermark &&
      !!state.lastFullAt &&
      started.getTime() - Date.parse(state.lastFullAt) < FULL_RECONCILE_EVERY_MS;
    const machines = incremental
      ? await provider.listChangedSince(new Date(Date.parse(state.watermark!) - CLOCK_SKEW_MS))
      : await provider.listOwned();
    const listed = new Map(machines.map((m) => [m.providerInstanceId, m]));
    const records = await recordsOf(target);
    const suspects = { ...state.suspects };
    const findings: ReconcileFinding[] = [];
    const tally = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const refOf = (pid: string, instanceId = pid): MachineRef => ({
      instanceId,
      providerInstanceId: pid,
      region: target.region,
      ...(target.accountId ? { accountId: target.accountId } : {}),
    });

    // Records: drift and ghosts.
    const recorded = new Map<string, Instance>();
    for (const instance of records) {
      const pid = instance.providerInstanceId!;
      recorded.set(pid, instance);
      let machine = listed.get(pid);
      const unchangedSinceLastRun = incremental && !machine && suspects[pid]?.kind !== 'ghost';
      if (unchangedSinceLastRun) {
        tally.unchanged++;
        continue;
      }
      if (!machine || machine.state === 'terminated') {
        // Absent from a listing is not proof: ask for this one machine before believing it.
        const confirmed = await provider.describe(refOf(pid, instance.id));
        if (confirmed && confirmed.state !== 'terminated') machine = confirmed;
        else {
          findings.push(await onGhost(instance, pid, suspects));
          continue;
        }
      }
      if (suspects[pid]?.kind === 'ghost') {
        delete suspects[pid];
        findings.push({ kind: 'ghost', outcome: 'cleared', instanceId: instance.id, providerInstanceId: pid, clientId: instance.clientId, message: 'The machine is back at the provider' });
      }
      const drift = await correctDrift(instance, machine);
      if (drift) findings.push(drift);
      else tally.unchanged++;
    }

    // Machines: orphans.
    for (const machine of machines) {
      const pid = machine.providerInstanceId;
      if (machine.state === 'terminated' || recorded.has(pid)) continue;
      const owner = machine.instanceId ? await deps.instances.findById(machine.instanceId) : null;
      const ours = owner && owner.status !== 'TERMINATED' && (!owner.providerInstanceId || owner.providerInstanceId === pid);
      if (ours) continue;
      findings.push(await onOrphan(machine, owner, provider, refOf(pid, machine.instanceId), suspects, target.clientId));
    }
    // Orphans seen before but not listed this time: gone in a full listing, re-checked otherwise.
    for (const [pid, suspect] of Object.entries(suspects)) {
      if (suspect.kind !== 'orphan' || listed.has(pid)) continue;
      const still = incremental ? await provider.describe(refOf(pid, suspect.instanceId)) : null;
      if (still && still.state !== 'terminated') {
        const owner = suspect.instanceId ? await deps.instances.findById(suspect.instanceId) : null;
        findings.push(await onOrphan(still, owner, provider, refOf(pid, suspect.instanceId), suspects, target.clientId));
      } else {
        delete suspects[pid];
        findings.push({ kind: 'orphan', outcome: 'cleared', providerInstanceId: pid, ...(suspect.instanceId ? { instanceId: suspect.instanceId } : {}), message: 'The machine is gone from the provider' });
      }
    }

    await markSucceeded(target, 'instances', {
      watermark: started.toISOString(),
      ...(incremental ? {} : { lastFullAt: started.toISOString() }),
      suspects,
    });
    tally.updated = findings.filter((f) => f.outcome === 'corrected' || f.outcome === 'marked-terminated').length;
    return { ...tally, incremental, findings };
  }

  async function correctDrift(instance: Instance, machine: Machine): Promise<ReconcileFinding | null> {
    const correction = driftCorrection(instance.status, machine.state);
    if (!correction) return null;
    const { action, words } = correction;
    const reason = machine.reason ? ` (${machine.reason})` : '';
    const message = `The provider reports the machine ${words}${reason}; it was recorded ${instance.status}`;
    const after = await mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current, at) =>
      current.status === instance.status && canApply(current.status, action)
        ? transition(current, action, at, ACTOR, message, action === 'fail' ? { errorMessage: message } : {}, {
            reconcile: 'drift',
            providerState: machine.state,
          })
        : null,
    );
    if (after.status === instance.status) return null; // a workflow got there first
    await deps.deadlines.sync(after);
    return { kind: 'drift', outcome: 'corrected', instanceId: instance.id, providerInstanceId: machine.providerInstanceId, clientId: instance.clientId, message };
  }

  async function onGhost(instance: Instance, pid: string, suspects: NonNullable<SyncState['suspects']>): Promise<ReconcileFinding> {
    const base = { kind: 'ghost' as const, instanceId: instance.id, providerInstanceId: pid, clientId: instance.clientId };
    const suspect = suspects[pid];
    if (!suspect) {
      suspects[pid] = { kind: 'ghost', firstSeenAt: now().toISOString(), instanceId: instance.id, clientId: instance.clientId };
      const message = `The provider no longer has machine ${pid}; it is recorded ${instance.status}`;
      await deps.instances.appendEvent(instance, { type: 'reconcile.ghost-found', actor: ACTOR, message, data: { providerInstanceId: pid } });
      return { ...base, outcome: 'reported', message };
    }
    const policy = reconcilePolicyOf(await deps.clients.get(instance.clientId));
    const firstSeen = new Date(suspect.firstSeenAt);
    const graceOver = now().getTime() - firstSeen.getTime() >= policy.graceMinutes * 60_000;
    if (!graceOver || policy.ghosts !== 'mark-terminated') {
      return { ...base, outcome: 'reported', message: `Missing at the provider since ${suspect.firstSeenAt}; policy '${policy.ghosts}'` };
    }
    // Billing stops when the machine was first found gone, not at the end of the grace period.
    const message = `Marked terminated: the provider confirmed machine ${pid} gone (first found missing at ${suspect.firstSeenAt})`;
    // Whatever settled status it has now (a dead process may have turned READY into ERROR
    // meanwhile), the machine is confirmed gone; a workflow in flight keeps it (not settled).
    const after = await mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current) =>
      canApply(current.status, 'vanished')
        ? transition(current, 'vanished', firstSeen, ACTOR, message, { terminatedBy: ACTOR }, { reconcile: 'ghost', providerInstanceId: pid })
        : null,
    );
    if (after.status !== 'TERMINATED') return { ...base, outcome: 'reported', message: `Left alone: the instance moved to ${after.status}` };
    delete suspects[pid];
    await deps.deadlines.sync(after);
    return { ...base, outcome: 'marked-terminated', message };
  }

  async function onOrphan(
    machine: Machine,
    owner: Instance | null,
    provider: ComputeProvider,
    ref: MachineRef,
    suspects: NonNullable<SyncState['suspects']>,
    accountOwner: string | undefined,
  ): Promise<ReconcileFinding> {
    const pid = machine.providerInstanceId;
    // In a client's own account every machine is that client's; on shared LOCAL only a record says whose.
    const clientId = owner?.clientId ?? accountOwner ?? suspects[pid]?.clientId;
    const base = {
      kind: 'orphan' as const,
      providerInstanceId: pid,
      ...(machine.instanceId ? { instanceId: machine.instanceId } : {}),
      ...(clientId ? { clientId } : {}),
    };
    const why = !owner
      ? machine.instanceId
        ? `tagged for ${machine.instanceId}, which Hangar has no record of`
        : 'tagged as Hangar\'s but naming no instance'
      : owner.status === 'TERMINATED'
        ? `still at the provider although ${owner.id} is TERMINATED`
        : `a second machine for ${owner.id}, which is on ${owner.providerInstanceId}`;
    const suspect = suspects[pid];
    if (!suspect) {
      suspects[pid] = { kind: 'orphan', firstSeenAt: now().toISOString(), ...(machine.instanceId ? { instanceId: machine.instanceId } : {}), ...(clientId ? { clientId } : {}) };
      return { ...base, outcome: 'reported', message: `Orphan ${pid}: ${why}` };
    }
    // Only a known client's policy may release a machine; an orphan of no one is only reported.
    const policy = clientId ? reconcilePolicyOf(await deps.clients.get(clientId)) : null;
    const graceOver = policy && now().getTime() - Date.parse(suspect.firstSeenAt) >= policy.graceMinutes * 60_000;
    if (!policy || !graceOver || policy.orphans !== 'terminate') {
      return { ...base, outcome: 'reported', message: `Orphan ${pid} since ${suspect.firstSeenAt}: ${why}; policy '${policy?.orphans ?? 'report'}'` };
    }
    await provider.terminate(ref);
    if (owner) {
      await deps.instances.appendEvent(owner, { type: 'reconcile.orphan-terminated', actor: ACTOR, message: `Terminated orphan machine ${pid}: ${why}`, data: { providerInstanceId: pid } });
    }
    return { ...base, outcome: 'terminated', message: `Terminated orphan ${pid}: ${why}` };
  }

  // ---------------------------------------------------------------- reading

  async function listJobs(principal: Principal, query: unknown): Promise<Page<SyncJob>> {
    requireRole(principal, 'viewer', 'read sync jobs');
    const q = parseInput(listSyncJobsQuerySchema, query ?? {}, 'query');
    const clientId = isPlatformAdmin(principal) ? q.clientId : principal.clientId!;
    if (!isPlatformAdmin(principal) && q.clientId && q.clientId !== principal.clientId) throw new NotFoundError('Client', q.clientId);
    const page = await deps.syncs.listJobs({ resourceType: q.type, clientId }, { limit: q.limit, cursor: q.cursor });
    return { ...page, items: page.items.map((job) => visibleTo(principal, job)) };
  }

  /** A client reads the jobs of its own accounts, and a LOCAL job by id (it may have asked for it). */
  async function getJob(principal: Principal, jobId: string): Promise<SyncJob> {
    requireRole(principal, 'viewer', 'read sync jobs');
    const job = await deps.syncs.getJob(jobId);
    if (!job || !(isPlatformAdmin(principal) || job.clientId === principal.clientId || job.clientId === SHARED_SCOPE)) {
      throw new NotFoundError('Sync job', jobId);
    }
    return visibleTo(principal, job);
  }

  /** LOCAL's reconciliation spans every client: a client sees only findings about its own instances. */
  function visibleTo(principal: Principal, job: SyncJob): SyncJob {
    if (isPlatformAdmin(principal) || !job.findings) return job;
    return { ...job, findings: job.findings.filter((f) => f.clientId === principal.clientId) };
  }

  return { runScheduled, syncNewAccount, request, run, listJobs, getJob };
}

export type SyncService = ReturnType<typeof makeSyncService>;

/** What the provider's word makes of a settled status, if anything. */
function driftCorrection(status: InstanceStatus, state: Machine['state']): { action: InstanceAction; words: string } | null {
  if ((status === 'READY' || status === 'RUNNING') && state === 'stopped') return { action: 'observedStopped', words: 'stopped' };
  if (status === 'STOPPED' && state === 'running') return { action: 'observedRunning', words: 'running' };
  if (status !== 'ERROR' && state === 'error') return { action: 'fail', words: 'in error' };
  return null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

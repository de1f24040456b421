import { reconcilePolicyOf } from '../../domain/client.ts';
import { SYSTEM_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { canApply, type InstanceStatus } from '../../domain/lifecycle.ts';
import { reconcileDecision, type ReconcileRecord } from '../../domain/reconcile.ts';
import { type ReconcileFinding, type SyncState, type SyncTarget, targetKey } from '../../domain/sync.ts';
import type { ComputeProvider, Machine, MachineRef } from '../../ports/compute-provider.ts';
import { mutateInstance, transition } from '../instance-changes.ts';
import type { SyncCounts } from './run-catalog-job.ts';
import { markSucceeded, type SyncDeps } from './sync-deps.ts';

const ACTOR = SYSTEM_ACTOR('sync');
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

type Suspects = NonNullable<SyncState['suspects']>;

export type ReconcileResult = SyncCounts & { incremental: boolean; findings: ReconcileFinding[] };

/**
 * Status reconciliation of one target: compare the provider's machines with the records and
 * carry out what the domain's `reconcileDecision` says — correct drift, report orphans and
 * ghosts, and act on them once they outlast the client's grace period. A record is closed only
 * after the provider confirms its machine is gone (absent from a listing is not proof).
 */
export function makeReconcileInstances(deps: Pick<SyncDeps, 'instances' | 'clients' | 'syncs' | 'clock' | 'deadlines'>) {
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

  const policyOf = async (clientId: string | undefined) => (clientId ? reconcilePolicyOf(await deps.clients.get(clientId)) : null);

  return async function reconcileInstances(target: SyncTarget, provider: ComputeProvider): Promise<ReconcileResult> {
    const started = deps.clock.now();
    const state = await deps.syncs.getState(targetKey(target), 'instances');
    const incremental =
      isIncremental(provider) && !!state.watermark && !!state.lastFullAt && started.getTime() - Date.parse(state.lastFullAt) < FULL_RECONCILE_EVERY_MS;
    const machines = incremental ? await provider.listChangedSince(new Date(Date.parse(state.watermark!) - CLOCK_SKEW_MS)) : await provider.listOwned();
    const listed = new Map(machines.map((m) => [m.providerInstanceId, m]));
    const suspects: Suspects = { ...state.suspects };
    const findings: ReconcileFinding[] = [];
    const tally = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const refOf = (pid: string, instanceId = pid): MachineRef => ({
      instanceId,
      providerInstanceId: pid,
      region: target.region,
      ...(target.accountId ? { accountId: target.accountId } : {}),
    });

    // Records: drift and ghosts.
    const recorded = new Set<string>();
    for (const instance of await recordsOf(target)) {
      const pid = instance.providerInstanceId!;
      recorded.add(pid);
      let machine: Machine | null = listed.get(pid) ?? null;
      // An incremental listing names only what changed: a record it does not name is unchanged.
      if (incremental && !machine && suspects[pid]?.kind !== 'ghost') {
        tally.unchanged++;
        continue;
      }
      if (!machine || machine.state === 'terminated') {
        // Absent from a listing is not proof: ask for this one machine before believing it.
        const confirmed = await provider.describe(refOf(pid, instance.id));
        machine = confirmed && confirmed.state !== 'terminated' ? confirmed : null;
      }
      const record: ReconcileRecord = { providerInstanceId: pid, instance, suspect: suspects[pid] };
      const policy = machine || !suspects[pid] ? null : await policyOf(instance.clientId);
      const made = await carryOut(record, machine, reconcileDecision(record, machine, policy, deps.clock.now()), instance, suspects);
      // A ghost that came back, with nothing else to say, leaves the record unchanged.
      if (made.every((f) => f.outcome === 'cleared')) tally.unchanged++;
      findings.push(...made);
    }

    // Machines no record is on: orphans.
    for (const machine of machines) {
      const pid = machine.providerInstanceId;
      if (machine.state === 'terminated' || recorded.has(pid)) continue;
      const owner = machine.instanceId ? await deps.instances.findById(machine.instanceId) : null;
      findings.push(...(await judgeOrphan(machine, owner, suspects, provider, refOf(pid, machine.instanceId), target)));
    }
    // Orphans seen before but not listed this time: gone in a full listing, re-checked otherwise.
    for (const [pid, suspect] of Object.entries(suspects)) {
      if (suspect.kind !== 'orphan' || listed.has(pid)) continue;
      const still = incremental ? await provider.describe(refOf(pid, suspect.instanceId)) : null;
      const machine = still && still.state !== 'terminated' ? still : null;
      const owner = machine && suspect.instanceId ? await deps.instances.findById(suspect.instanceId) : null;
      const gone: Machine = { providerInstanceId: pid, state: 'terminated', ...(suspect.instanceId ? { instanceId: suspect.instanceId } : {}) };
      findings.push(...(await judgeOrphan(machine ?? gone, owner, suspects, provider, refOf(pid, suspect.instanceId), target)));
    }

    await markSucceeded(deps, target, 'instances', {
      watermark: started.toISOString(),
      ...(incremental ? {} : { lastFullAt: started.toISOString() }),
      suspects,
    });
    tally.updated = findings.filter((f) => f.outcome === 'corrected' || f.outcome === 'marked-terminated').length;
    return { ...tally, incremental, findings };
  };

  async function judgeOrphan(
    machine: Machine,
    owner: Instance | null,
    suspects: Suspects,
    provider: ComputeProvider,
    ref: MachineRef,
    target: SyncTarget,
  ): Promise<ReconcileFinding[]> {
    const pid = machine.providerInstanceId;
    // In a client's own account every machine is that client's; on shared LOCAL only a record says whose.
    const clientId = owner?.clientId ?? target.clientId ?? suspects[pid]?.clientId;
    const record: ReconcileRecord = { providerInstanceId: pid, owner, suspect: suspects[pid] };
    const present = machine.state === 'terminated' ? null : machine;
    // Only a known client's policy may release a machine; an orphan of no one is only reported.
    const policy = suspects[pid] && present ? await policyOf(clientId) : null;
    const decision = reconcileDecision(record, present, policy, deps.clock.now());
    if (decision.kind !== 'orphan') return [];
    const base = {
      kind: 'orphan' as const,
      providerInstanceId: pid,
      ...(machine.instanceId ? { instanceId: machine.instanceId } : {}),
      ...(clientId && decision.action !== 'clear' ? { clientId } : {}),
    };
    switch (decision.action) {
      case 'suspect':
        suspects[pid] = { kind: 'orphan', firstSeenAt: decision.since, ...(machine.instanceId ? { instanceId: machine.instanceId } : {}), ...(clientId ? { clientId } : {}) };
        return [{ ...base, outcome: 'reported', message: decision.message }];
      case 'report':
        return [{ ...base, outcome: 'reported', message: decision.message }];
      case 'clear':
        delete suspects[pid];
        return [{ ...base, outcome: 'cleared', message: decision.message }];
      case 'terminate':
        await provider.terminate(ref);
        if (owner) {
          await deps.instances.appendEvent(owner, {
            type: 'reconcile.orphan-terminated',
            actor: ACTOR,
            message: `Terminated orphan machine ${pid}: ${decision.why}`,
            data: { providerInstanceId: pid },
          });
        }
        return [{ ...base, outcome: 'terminated', message: decision.message }];
    }
  }

  /** Carry out the decision about a record: the findings it makes (none when all agrees). */
  async function carryOut(
    record: ReconcileRecord,
    machine: Machine | null,
    decision: ReturnType<typeof reconcileDecision>,
    instance: Instance,
    suspects: Suspects,
  ): Promise<ReconcileFinding[]> {
    const pid = record.providerInstanceId;
    const base = { instanceId: instance.id, providerInstanceId: pid, clientId: instance.clientId };
    const findings: ReconcileFinding[] = [];
    if ((decision.kind === 'none' || decision.kind === 'drift') && decision.ghostCleared) {
      delete suspects[pid];
      findings.push({ kind: 'ghost', outcome: 'cleared', ...base, message: 'The machine is back at the provider' });
    }
    if (decision.kind === 'drift') {
      const { action, message } = decision;
      const after = await mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current, at) =>
        current.status === instance.status && canApply(current.status, action)
          ? transition(current, action, at, ACTOR, message, action === 'fail' ? { errorMessage: message } : {}, { reconcile: 'drift', providerState: machine!.state })
          : null,
      );
      // A workflow that got there first has the last word.
      if (after.status !== instance.status) {
        await deps.deadlines.sync(after, instance);
        findings.push({ kind: 'drift', outcome: 'corrected', ...base, message });
      }
    }
    if (decision.kind === 'ghost') {
      if (decision.action === 'suspect') {
        suspects[pid] = { kind: 'ghost', firstSeenAt: decision.since, instanceId: instance.id, clientId: instance.clientId };
        await deps.instances.appendEvent(instance, { type: 'reconcile.ghost-found', actor: ACTOR, message: decision.message, data: { providerInstanceId: pid } });
        findings.push({ kind: 'ghost', outcome: 'reported', ...base, message: decision.message });
      } else if (decision.action === 'report') {
        findings.push({ kind: 'ghost', outcome: 'reported', ...base, message: decision.message });
      } else {
        // Whatever settled status it has now (a dead process may have turned READY into ERROR
        // meanwhile), the machine is confirmed gone; a workflow in flight keeps it (not settled).
        // Billing stops when the machine was first found gone, not at the end of the grace period.
        const after = await mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current) =>
          canApply(current.status, 'vanished')
            ? transition(current, 'vanished', new Date(decision.since), ACTOR, decision.message, { terminatedBy: ACTOR }, { reconcile: 'ghost', providerInstanceId: pid })
            : null,
        );
        if (after.status !== 'TERMINATED') {
          findings.push({ kind: 'ghost', outcome: 'reported', ...base, message: `Left alone: the instance moved to ${after.status}` });
        } else {
          delete suspects[pid];
          await deps.deadlines.sync(after, instance);
          findings.push({ kind: 'ghost', outcome: 'marked-terminated', ...base, message: decision.message });
        }
      }
    }
    return findings;
  }
}

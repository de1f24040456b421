import type { Instance } from './instance.ts';
import type { InstanceAction, InstanceStatus } from './lifecycle.ts';
import type { ReconcilePolicy, SyncState } from './sync.ts';

/**
 * Status reconciliation as a decision: given Hangar's record of a machine, the provider's view of
 * it, the client's policy and the time, what is to be done — correct drift, report or close a
 * ghost (recorded here, gone there), report or release an orphan (there, unknown here). The sync
 * job reads the provider and the table, asks this, and carries the answer out.
 */

/** What the provider says of a machine, as far as reconciliation reads it. */
export interface ObservedMachine {
  providerInstanceId: string;
  /** The Hangar id the machine carries in its ownership tag, if any. */
  instanceId?: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'terminated' | 'error';
  reason?: string;
}

/** A machine under suspicion, and since when: the grace period's clock. */
export type Suspect = NonNullable<SyncState['suspects']>[string];

export interface ReconcileRecord {
  providerInstanceId: string;
  /** The settled record on this machine; absent when no record is on it. */
  instance?: Pick<Instance, 'id' | 'clientId' | 'status'> | null;
  /** For a machine no record is on: the record its ownership tag names, if Hangar has one. */
  owner?: Pick<Instance, 'id' | 'clientId' | 'status' | 'providerInstanceId'> | null;
  /** From the target's state: since when this machine has been suspected, and of what. */
  suspect?: Suspect;
}

export type ReconcileDecision =
  /** Record and machine agree (or the machine is another record's, mid-workflow). */
  | { kind: 'none'; ghostCleared: boolean; reason: string }
  /** The provider's word changes the record's status. */
  | { kind: 'drift'; action: Extract<InstanceAction, 'observedStopped' | 'observedRunning' | 'fail'>; message: string; ghostCleared: boolean }
  /** `suspect`: first found missing (start the grace period); `report`: still missing; `close`: mark TERMINATED as of `since`. */
  | { kind: 'ghost'; action: 'suspect' | 'report' | 'close'; since: string; message: string }
  /** `suspect`: first seen; `report`: still there; `terminate`: release it; `clear`: gone on its own. */
  | { kind: 'orphan'; action: 'suspect' | 'report' | 'terminate' | 'clear'; since: string; message: string; why?: string };

const graceOver = (suspect: Suspect, policy: ReconcilePolicy, now: Date) =>
  now.getTime() - Date.parse(suspect.firstSeenAt) >= policy.graceMinutes * 60_000;

/** What the provider's word makes of a settled status, if anything. */
export function driftCorrection(
  status: InstanceStatus,
  state: ObservedMachine['state'],
): { action: Extract<InstanceAction, 'observedStopped' | 'observedRunning' | 'fail'>; words: string } | null {
  if ((status === 'READY' || status === 'RUNNING') && state === 'stopped') return { action: 'observedStopped', words: 'stopped' };
  if (status === 'STOPPED' && state === 'running') return { action: 'observedRunning', words: 'running' };
  if (status !== 'ERROR' && state === 'error') return { action: 'fail', words: 'in error' };
  return null;
}

/** Why a machine no live record is on counts as an orphan, in words for its finding. */
function orphanReason(machine: ObservedMachine, owner: ReconcileRecord['owner']): string {
  if (!owner) return machine.instanceId ? `tagged for ${machine.instanceId}, which Hangar has no record of` : "tagged as Hangar's but naming no instance";
  return owner.status === 'TERMINATED'
    ? `still at the provider although ${owner.id} is TERMINATED`
    : `a second machine for ${owner.id}, which is on ${owner.providerInstanceId}`;
}

/**
 * One machine/record pair. `machine` is the provider's confirmed view (null: it does not have
 * it). `policy` is the owning client's, or null when no client is known: an orphan of no one is
 * only ever reported. A ghost is closed, and an orphan released, only once the grace period
 * since it was first suspected has passed and the policy says so.
 */
export function reconcileDecision(
  record: ReconcileRecord,
  machine: ObservedMachine | null,
  policy: ReconcilePolicy | null,
  now: Date,
): ReconcileDecision {
  const pid = record.providerInstanceId;
  const gone = !machine || machine.state === 'terminated';
  const suspect = record.suspect;

  if (record.instance) {
    const instance = record.instance;
    if (gone) {
      if (suspect?.kind !== 'ghost') {
        return { kind: 'ghost', action: 'suspect', since: now.toISOString(), message: `The provider no longer has machine ${pid}; it is recorded ${instance.status}` };
      }
      if (!policy || !graceOver(suspect, policy, now) || policy.ghosts !== 'mark-terminated') {
        return { kind: 'ghost', action: 'report', since: suspect.firstSeenAt, message: `Missing at the provider since ${suspect.firstSeenAt}; policy '${policy?.ghosts ?? 'report'}'` };
      }
      // Billing stops when the machine was first found gone, not at the end of the grace period.
      return {
        kind: 'ghost',
        action: 'close',
        since: suspect.firstSeenAt,
        message: `Marked terminated: the provider confirmed machine ${pid} gone (first found missing at ${suspect.firstSeenAt})`,
      };
    }
    const ghostCleared = suspect?.kind === 'ghost';
    const correction = driftCorrection(instance.status, machine.state);
    if (!correction) return { kind: 'none', ghostCleared, reason: `the provider agrees: ${machine.state}` };
    const reason = machine.reason ? ` (${machine.reason})` : '';
    return {
      kind: 'drift',
      action: correction.action,
      message: `The provider reports the machine ${correction.words}${reason}; it was recorded ${instance.status}`,
      ghostCleared,
    };
  }

  if (gone) {
    if (suspect?.kind === 'orphan') return { kind: 'orphan', action: 'clear', since: suspect.firstSeenAt, message: 'The machine is gone from the provider' };
    return { kind: 'none', ghostCleared: false, reason: 'no record and no machine' };
  }
  const owner = record.owner;
  // A record in a workflow (not settled) owns its machine even before its id is recorded.
  if (owner && owner.status !== 'TERMINATED' && (!owner.providerInstanceId || owner.providerInstanceId === pid)) {
    return { kind: 'none', ghostCleared: false, reason: `the machine of ${owner.id}` };
  }
  const why = orphanReason(machine, owner);
  if (suspect?.kind !== 'orphan') return { kind: 'orphan', action: 'suspect', since: now.toISOString(), message: `Orphan ${pid}: ${why}`, why };
  if (!policy || !graceOver(suspect, policy, now) || policy.orphans !== 'terminate') {
    return {
      kind: 'orphan',
      action: 'report',
      since: suspect.firstSeenAt,
      message: `Orphan ${pid} since ${suspect.firstSeenAt}: ${why}; policy '${policy?.orphans ?? 'report'}'`,
      why,
    };
  }
  return { kind: 'orphan', action: 'terminate', since: suspect.firstSeenAt, message: `Terminated orphan ${pid}: ${why}`, why };
}

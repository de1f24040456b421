import { canApply } from '../domain/lifecycle.ts';
import { LIMITS } from '../domain/limits.ts';
import type { Instance } from '../domain/instance.ts';
import type { DueEntry, DueKind } from '../ports/instance-repository.ts';

/** The background passes an instance can come due for, as the table's entity spells them. */
export const DUE_KINDS = ['auto-terminate', 'idle-stop'] as const satisfies readonly DueKind[];

/**
 * Idle stop's entry is keyed at real minutes: the repository does not know a deployment's
 * minute. A development runtime that shortens the minute makes idle stops due sooner than their
 * entries say, so its sweeper reads ahead by what the shortening can amount to (see
 * `idleStopLookaheadMs`); deployed, a minute is a minute and the sweeper reads exactly what is due.
 */
export const ENTRY_MINUTE_MS = 60_000;

/**
 * The entries an instance should have, by what the domain's decisions read: auto-terminate at
 * `autoTerminateAt` while the instance can still be terminated (`deadlineDecision`), idle stop
 * at `idleSince` + `config.idleStopMinutes` while READY (`idleStopDecision`). An entry only finds
 * candidates; the pass decides with those functions, so an entry a little early or late for a
 * changed rule costs a read, never a wrong act.
 */
export function dueEntriesOf(instance: Instance): DueEntry[] {
  const entries: DueEntry[] = [];
  const { clientId, id } = instance;
  if (instance.autoTerminateAt && canApply(instance.status, 'terminate')) {
    entries.push({ kind: 'auto-terminate', clientId, id, dueAt: new Date(instance.autoTerminateAt).toISOString() });
  }
  const idleMinutes = instance.config.idleStopMinutes;
  if (idleMinutes && instance.status === 'READY' && instance.idleSince) {
    entries.push({ kind: 'idle-stop', clientId, id, dueAt: new Date(Date.parse(instance.idleSince) + idleMinutes * ENTRY_MINUTE_MS).toISOString() });
  }
  return entries;
}

/** The entry of `kind` an instance should have, or none. */
export const dueEntryOf = (instance: Instance, kind: DueKind): DueEntry | undefined => dueEntriesOf(instance).find((entry) => entry.kind === kind);

/**
 * How much sooner than its entry an idle stop can be due with a minute of `minuteMs`: entries
 * count real minutes, and no idle stop is longer than the ceiling. Zero for a real minute.
 */
export const idleStopLookaheadMs = (minuteMs = ENTRY_MINUTE_MS): number =>
  Math.max(0, ENTRY_MINUTE_MS - minuteMs) * LIMITS.ceilingAutoTerminateMinutes;

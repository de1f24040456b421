import { autoTerminateDueAt, idleStopDueAt } from '../domain/deadlines.ts';
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
 * The entries an instance should have, at the due times the domain gives (`autoTerminateDueAt`,
 * `idleStopDueAt`: the rules `deadlineDecision` and `idleStopDecision` apply). An entry only finds
 * candidates; the pass decides with those functions, so an entry a little early or late for a
 * changed rule costs a read, never a wrong act.
 */
export function dueEntriesOf(instance: Instance): DueEntry[] {
  const entries: DueEntry[] = [];
  const { clientId, id } = instance;
  const deadline = autoTerminateDueAt(instance);
  if (deadline) entries.push({ kind: 'auto-terminate', clientId, id, dueAt: new Date(deadline).toISOString() });
  const idleStop = idleStopDueAt(instance, ENTRY_MINUTE_MS);
  if (idleStop !== undefined) entries.push({ kind: 'idle-stop', clientId, id, dueAt: new Date(idleStop).toISOString() });
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

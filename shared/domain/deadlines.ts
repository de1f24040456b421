import type { Client } from './client.ts';
import { ValidationError } from './errors.ts';
import type { Instance } from './instance.ts';
import { LIMITS } from './limits.ts';
import { canApply } from './lifecycle.ts';

/**
 * Every rule about the auto-terminate deadline and idle stop, as functions of the instance and
 * the time: when the deadline is set, how far it may move, when the warning and the deadline
 * are due, when an idle instance is stopped. Services and schedulers act on these answers and
 * decide nothing themselves (the model: Instance Scheduler's `make_scheduling_decision`).
 */

export interface DeadlinePolicy {
  /**
   * How long a deadline "minute" lasts: 60,000 ms, except in development, where the local
   * runtime may shorten it to watch auto-terminate happen.
   */
  minuteMs: number;
  /** Minutes before the deadline that the warning is written. */
  warningMinutes: number;
}

export const DEFAULT_WARNING_MINUTES = 5;
export const DEFAULT_DEADLINE_POLICY: DeadlinePolicy = { minuteMs: 60_000, warningMinutes: DEFAULT_WARNING_MINUTES };

/** The policy from the optional settings a deployment gives; defaults fill the gaps. */
export const deadlinePolicy = (settings: { minuteMs?: number; warningMinutes?: number } = {}): DeadlinePolicy => ({
  minuteMs: settings.minuteMs ?? DEFAULT_DEADLINE_POLICY.minuteMs,
  warningMinutes: settings.warningMinutes ?? DEFAULT_DEADLINE_POLICY.warningMinutes,
});

/** The fields of an instance the deadline rules read. */
export type DeadlineFields = Pick<Instance, 'status' | 'autoTerminateAt' | 'autoTerminateMinutes'>;

/** The longest deadline a client allows; a client record without one gets the default. */
export const maxAutoTerminateMinutes = (client: Pick<Client, 'maxAutoTerminateMinutes'> | null | undefined): number =>
  client?.maxAutoTerminateMinutes ?? LIMITS.defaultMaxAutoTerminateMinutes;

/** A create may ask for at most the client's maximum (the schema already bounds it by the ceiling). */
export function checkAutoTerminateMinutes(minutes: number | undefined, client: Pick<Client, 'maxAutoTerminateMinutes'>): void {
  const max = maxAutoTerminateMinutes(client);
  if (minutes !== undefined && minutes > max) {
    throw new ValidationError(`autoTerminateMinutes must be at most ${max} for this client`, [
      { path: 'config.autoTerminateMinutes', message: `at most ${max}` },
    ]);
  }
}

/** Only a live instance has a deadline that matters: a terminating or terminated one is past it. */
const deadlineStands = (instance: DeadlineFields): instance is DeadlineFields & { autoTerminateAt: string } =>
  !!instance.autoTerminateAt && canApply(instance.status, 'terminate');

/** When the sweeper's auto-terminate comes due for the instance: its deadline while one stands. */
export const autoTerminateDueAt = (instance: DeadlineFields): string | undefined => (deadlineStands(instance) ? instance.autoTerminateAt : undefined);

/** The deadline set when the instance reaches READY: `autoTerminateMinutes` from then, or none. */
export function deadlineOnReady(instance: DeadlineFields, readyAt: Date, policy: DeadlinePolicy): string | undefined {
  if (!instance.autoTerminateMinutes) return undefined;
  return new Date(readyAt.getTime() + instance.autoTerminateMinutes * policy.minuteMs).toISOString();
}

export interface DeadlineExtension {
  autoTerminateAt: string;
  /** The minutes granted in all: what the instance asked for at create, plus every extend. */
  autoTerminateMinutes: number;
}

/**
 * Move the deadline `minutes` later: from the current deadline, or from now when there is none
 * or it has passed. The new deadline may be at most the client's maximum away from now; beyond
 * that the extend is refused with how much is still allowed.
 */
export function extendDeadline(
  instance: DeadlineFields,
  minutes: number,
  now: Date,
  maxMinutes: number,
  policy: DeadlinePolicy,
): DeadlineExtension {
  const nowMs = now.getTime();
  const from = instance.autoTerminateAt ? Math.max(Date.parse(instance.autoTerminateAt), nowMs) : nowMs;
  const deadline = from + minutes * policy.minuteMs;
  const remaining = Math.ceil((deadline - nowMs) / policy.minuteMs);
  if (remaining > maxMinutes) {
    const allowed = Math.max(0, maxMinutes - Math.ceil((from - nowMs) / policy.minuteMs));
    throw new ValidationError(
      `The deadline may be at most ${maxMinutes} minutes away for this client; extending by ${minutes} would make it ${remaining}`,
      [{ path: 'minutes', message: `at most ${allowed} more minutes` }],
    );
  }
  return { autoTerminateAt: new Date(deadline).toISOString(), autoTerminateMinutes: (instance.autoTerminateMinutes ?? 0) + minutes };
}

/** What to do about an instance's deadline at `now`. */
export type DeadlineDecision =
  | { kind: 'terminate'; deadline: string; reason: string }
  | { kind: 'warn'; deadline: string; minutesLeft: number; reason: string }
  | { kind: 'none'; reason: string };

/** Whole minutes left until the deadline, never negative. */
const minutesLeft = (deadline: string, now: Date, policy: DeadlinePolicy) =>
  Math.max(0, Math.round((Date.parse(deadline) - now.getTime()) / policy.minuteMs));

/**
 * The deadline at `now`: due (terminate), inside the warning window (warn), or neither. The
 * deadline is due at its very instant; an extend that moved it later makes it not due.
 */
export function deadlineDecision(instance: DeadlineFields, now: Date, policy: DeadlinePolicy): DeadlineDecision {
  if (!instance.autoTerminateAt) return { kind: 'none', reason: 'no deadline' };
  if (!canApply(instance.status, 'terminate')) return { kind: 'none', reason: `already ${instance.status}` };
  const deadline = instance.autoTerminateAt;
  const at = Date.parse(deadline);
  if (at <= now.getTime()) return { kind: 'terminate', deadline, reason: `the deadline ${deadline} has come` };
  if (at - policy.warningMinutes * policy.minuteMs <= now.getTime()) {
    const left = minutesLeft(deadline, now, policy);
    return { kind: 'warn', deadline, minutesLeft: left, reason: `the deadline ${deadline} is ${left} minutes away` };
  }
  return { kind: 'none', reason: `the deadline ${deadline} is not near yet` };
}

/**
 * A warning scheduled for `scheduledFor` fired. It is written only if that deadline still stands:
 * an extend or a terminate since then makes it stale.
 */
export function warningDecision(
  instance: DeadlineFields,
  scheduledFor: string | undefined,
  now: Date,
  policy: DeadlinePolicy,
): { kind: 'warn'; deadline: string; minutesLeft: number } | { kind: 'none'; reason: string } {
  if (!deadlineStands(instance)) return { kind: 'none', reason: 'no deadline stands' };
  if (instance.autoTerminateAt !== scheduledFor) return { kind: 'none', reason: `the deadline moved to ${instance.autoTerminateAt}` };
  return { kind: 'warn', deadline: instance.autoTerminateAt, minutesLeft: minutesLeft(instance.autoTerminateAt, now, policy) };
}

/** The one-time schedules an instance's deadline needs, and whether its warning is due at once. */
export interface DeadlineSchedules {
  /** When the terminate schedule fires; null: no deadline stands, cancel it. */
  terminateAt: Date | null;
  /**
   * `schedule`: the warning fires at `at`. `now`: the deadline was just set or moved inside the
   * warning window, so the warning is written at once instead of never. `none`: no warning.
   */
  warning: { kind: 'schedule'; at: Date } | { kind: 'now'; minutesLeft: number } | { kind: 'none' };
}

/**
 * The schedules for `instance` at `now`. `previousDeadline` is the deadline before the change
 * being applied: a warning is written at once only for a deadline that is new, so re-applying
 * an unchanged deadline (a drift correction) does not warn twice.
 */
export function deadlineSchedules(
  instance: DeadlineFields,
  now: Date,
  policy: DeadlinePolicy,
  previousDeadline?: string,
): DeadlineSchedules {
  if (!deadlineStands(instance)) return { terminateAt: null, warning: { kind: 'none' } };
  const deadline = new Date(instance.autoTerminateAt);
  const warnAt = new Date(deadline.getTime() - policy.warningMinutes * policy.minuteMs);
  if (warnAt > now) return { terminateAt: deadline, warning: { kind: 'schedule', at: warnAt } };
  const isNew = instance.autoTerminateAt !== previousDeadline;
  const warning =
    isNew && deadline > now ? { kind: 'now' as const, minutesLeft: minutesLeft(instance.autoTerminateAt, now, policy) } : { kind: 'none' as const };
  return { terminateAt: deadline, warning };
}

/** What idle stop makes of an instance at `now`. */
export type IdleStopDecision = { kind: 'stop'; idleMinutes: number; idleSince: string; reason: string } | { kind: 'none'; reason: string };

/**
 * Idle stop: an instance with `config.idleStopMinutes` that has stayed READY (no task) that long
 * is stopped. RUNNING is not idle; READY again starts a new idle period (`idleSince`).
 */
export function idleStopDecision(
  instance: Pick<Instance, 'status' | 'idleSince' | 'config'>,
  now: Date,
  policy: Pick<DeadlinePolicy, 'minuteMs'>,
): IdleStopDecision {
  const idleMinutes = instance.config.idleStopMinutes;
  if (!idleMinutes) return { kind: 'none', reason: 'no idle stop' };
  const dueAt = idleStopDueAt(instance, policy.minuteMs);
  if (dueAt === undefined) return { kind: 'none', reason: `not idle (${instance.status})` };
  if (dueAt > now.getTime()) {
    return { kind: 'none', reason: `idle since ${instance.idleSince}, less than ${idleMinutes} minutes` };
  }
  return {
    kind: 'stop',
    idleMinutes,
    idleSince: instance.idleSince!, // set: idleStopDueAt answered
    reason: `Stopped after ${idleMinutes} minutes idle (READY with no task since ${instance.idleSince})`,
  };
}

/** When idle stop comes due for the instance (ms since epoch), with a minute of `minuteMs`: while it stays READY with no task. */
export function idleStopDueAt(instance: Pick<Instance, 'status' | 'idleSince' | 'config'>, minuteMs: number): number | undefined {
  const idleMinutes = instance.config.idleStopMinutes;
  if (!idleMinutes || instance.status !== 'READY' || !instance.idleSince) return undefined;
  return Date.parse(instance.idleSince) + idleMinutes * minuteMs;
}

import { deadlineDecision, deadlineSchedules, DEFAULT_WARNING_MINUTES, idleStopDecision, warningDecision } from '../domain/deadlines.ts';
import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { microsToUnits } from '../domain/money.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import { deadlineScheduleName } from './schedule-names.ts';
import { deadlinePolicyOf, type ServiceDeps } from './deps.ts';
import { type EventInput, mutateInstance, transition } from './instance-changes.ts';

const ACTOR = SYSTEM_ACTOR('auto-terminate');
/** How many instances a pass acts on at once. */
const PASS_CONCURRENCY = 8;
/** A pass's write lost to other writers this many times in a row gives up until the next pass. */
const ACT_ATTEMPTS = 5;

/**
 * Runs `act` on every item, at most `limit` at a time, and returns the failures: one instance that
 * cannot be acted on must not hold back, pass after pass, every instance due behind it.
 */
async function eachAtMost<T>(limit: number, items: readonly T[], act: (item: T) => Promise<void>): Promise<unknown[]> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < items.length) await act(items[next++]!).catch((error: unknown) => void failures.push(error));
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}

/** A pass that acted on what it could says what it could not, once it is over. */
function throwFailures(failures: unknown[], what: string): void {
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} instances could not be ${what}`);
}

/** What a deadline schedule carries to the handler that fires it. */
export interface DeadlinePayload {
  clientId: string;
  instanceId: string;
  /** `warn` fires ahead of the deadline; absent means terminate. */
  kind?: 'warn' | 'terminate';
  /** The deadline a warning was scheduled for: a moved deadline makes it stale. */
  deadline?: string;
}

export { DEFAULT_WARNING_MINUTES };

export const warningScheduleName = (instanceId: string) => deadlineScheduleName(instanceId).replace(/^terminate-/, 'warn-');

/**
 * Auto-terminate and idle stop, carried out: each deadline is a one-time schedule (EventBridge
 * Scheduler on AWS, the table locally), a sweeper is the backstop for a schedule that was ever
 * lost. When anything is due is decided in the domain (shared/domain/deadlines.ts).
 */
export function makeAutomations(deps: ServiceDeps & { scheduler: Scheduler; warningMinutes?: number }) {
  const policy = deadlinePolicyOf(deps);

  /** Keep the instance's schedules in step with its deadline (set, moved, or gone). */
  async function syncDeadline(instance: Instance, before?: Instance): Promise<void> {
    const name = deadlineScheduleName(instance.id);
    const warning = warningScheduleName(instance.id);
    const now = deps.clock.now();
    const plan = deadlineSchedules(instance, now, policy, before?.autoTerminateAt);
    if (!plan.terminateAt) {
      await Promise.all([deps.scheduler.cancel(name), deps.scheduler.cancel(warning)]);
      return;
    }
    const payload = { clientId: instance.clientId, instanceId: instance.id };
    await deps.scheduler.scheduleOnce({ name, at: plan.terminateAt, payload: { ...payload, kind: 'terminate' } });
    if (plan.warning.kind === 'schedule') {
      await deps.scheduler.scheduleOnce({ name: warning, at: plan.warning.at, payload: { ...payload, kind: 'warn', deadline: instance.autoTerminateAt! } });
      return;
    }
    await deps.scheduler.cancel(warning);
    if (plan.warning.kind === 'now') await writeWarning(instance, plan.warning.minutesLeft, now);
  }

  async function writeWarning(instance: Instance, minutesLeft: number, now: Date): Promise<void> {
    await deps.instances.appendEvent(instance, {
      type: 'instance.auto-terminate-warning',
      actor: ACTOR,
      message: `Will be auto-terminated at ${instance.autoTerminateAt} (in ${minutesLeft} minutes); extend it to keep it`,
      data: { autoTerminateAt: instance.autoTerminateAt },
      at: now.toISOString(),
    });
  }

  /** A schedule fired: warn ahead of the deadline, or terminate at it. */
  async function onSchedule(payload: DeadlinePayload): Promise<void> {
    if (payload.kind === 'warn') await warn(payload);
    else await terminateIfDue(payload, 'schedule');
  }

  /** Only for the deadline it was scheduled for: after an extend the warning is stale. */
  async function warn(payload: DeadlinePayload): Promise<void> {
    const instance = await deps.instances.get(payload.clientId, payload.instanceId);
    if (!instance) return;
    const now = deps.clock.now();
    const decision = warningDecision(instance, payload.deadline, now, policy);
    if (decision.kind === 'warn') await writeWarning(instance, decision.minutesLeft, now);
  }

  /**
   * The deadline came (or the sweeper found it passed). Terminates only if the deadline still
   * stands at the moment of writing: an extend that raced the schedule wins, and a terminated
   * instance stays terminated.
   */
  async function terminateIfDue(payload: DeadlinePayload, via: 'schedule' | 'sweeper'): Promise<Instance | null> {
    return (await terminateWhenDue(payload, via)).instance;
  }

  /** The instance after the attempt, and whether this call terminated it. */
  async function terminateWhenDue(payload: DeadlinePayload, via: 'schedule' | 'sweeper'): Promise<{ instance: Instance | null; acted: boolean }> {
    const result = await actOn({ clientId: payload.clientId, instanceId: payload.instanceId }, (instance, now) => {
      const decision = deadlineDecision(instance, now, policy);
      if (decision.kind !== 'terminate') return null;
      const change = transition(
        instance,
        'terminate',
        now,
        ACTOR,
        via === 'schedule' ? `Auto-terminated at its deadline ${decision.deadline}` : `Auto-terminated by the sweeper: the deadline ${decision.deadline} had passed`,
        { terminatedBy: ACTOR },
      );
      change.event.type = 'instance.auto-terminated';
      change.event.data = { costMicros: change.after.accruedCostMicros, cost: microsToUnits(change.after.accruedCostMicros), via };
      return change;
    });
    const { instance, acted } = result;
    if (acted) await deps.workflows.start('terminate', { clientId: instance!.clientId, instanceId: instance!.id, version: instance!.version });
    return result;
  }

  /**
   * `mutateInstance` that also says whether this call made the change, and meets an instance
   * that is gone without error: a pass acting on index entries, or a schedule firing late, may.
   */
  async function actOn(
    ref: { clientId: string; instanceId: string },
    decide: (current: Instance, now: Date) => { after: Instance; event: EventInput } | null,
  ): Promise<{ instance: Instance | null; acted: boolean }> {
    const read = await deps.instances.get(ref.clientId, ref.instanceId);
    if (!read) return { instance: null, acted: false };
    let acted = false;
    const instance = await mutateInstance(
      deps,
      ref,
      (current, now) => {
        const change = decide(current, now);
        acted = change !== null;
        return change;
      },
      { attempts: ACT_ATTEMPTS, read },
    );
    return { instance, acted };
  }


  /**
   * Terminate every live instance whose deadline has passed; returns how many. Reads only the
   * deadlines due by now (an index by due time, a page at a time), however many are live; each
   * is decided again on the instance itself, a few at a time.
   */
  async function sweep(): Promise<number> {
    let terminated = 0;
    const failures: unknown[] = [];
    for await (const page of deps.instances.duePages('auto-terminate', deps.clock.now(), { minuteMs: policy.minuteMs })) {
      const failed = await eachAtMost(PASS_CONCURRENCY, page, async (entry) => {
        if ((await terminateWhenDue({ clientId: entry.clientId, instanceId: entry.id }, 'sweeper')).acted) terminated++;
      });
      failures.push(...failed);
    }
    throwFailures(failures, 'terminated at their deadline');
    return terminated;
  }

  /**
   * Idle stop (domain `idleStopDecision`): runs with the sweeper; the stop event says why. Reads
   * only the idle stops due by now, as the sweeper reads deadlines.
   */
  async function stopIdle(): Promise<number> {
    let stopped = 0;
    const failures: unknown[] = [];
    for await (const page of deps.instances.duePages('idle-stop', deps.clock.now(), { minuteMs: policy.minuteMs })) {
      const failed = await eachAtMost(PASS_CONCURRENCY, page, async (entry) => {
        if (await stopIfIdle({ clientId: entry.clientId, instanceId: entry.id })) stopped++;
      });
      failures.push(...failed);
    }
    throwFailures(failures, 'stopped when idle');
    return stopped;
  }

  /** Stops the instance if it is still idle past its idle stop when written; true if this call stopped it. */
  async function stopIfIdle(ref: { clientId: string; instanceId: string }): Promise<boolean> {
    const { instance, acted } = await actOn(ref, (current, at) => {
      const decision = idleStopDecision(current, at, policy);
      return decision.kind === 'stop' ? transition(current, 'stop', at, SYSTEM_ACTOR('idle-stop'), decision.reason) : null;
    });
    if (acted) await deps.workflows.start('stop', { clientId: instance!.clientId, instanceId: instance!.id, version: instance!.version });
    return acted;
  }

  return { syncDeadline, onSchedule, terminateIfDue, sweep, stopIdle };
}

export type Automations = ReturnType<typeof makeAutomations>;

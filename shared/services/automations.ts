import { deadlineDecision, deadlineSchedules, DEFAULT_WARNING_MINUTES, idleStopDecision, warningDecision } from '../domain/deadlines.ts';
import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { microsToUnits } from '../domain/money.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import { deadlineScheduleName } from './schedule-names.ts';
import { deadlinePolicyOf, type ServiceDeps } from './deps.ts';
import { mutateInstance, transition } from './instance-changes.ts';

const ACTOR = SYSTEM_ACTOR('auto-terminate');

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
  async function terminateWhenDue(payload: DeadlinePayload, via: 'schedule' | 'sweeper'): Promise<{ instance: Instance | null; fired: boolean }> {
    const current = await deps.instances.get(payload.clientId, payload.instanceId);
    if (!current || deadlineDecision(current, deps.clock.now(), policy).kind !== 'terminate') return { instance: current, fired: false };
    let fired = false;
    const after = await mutateInstance(deps, { clientId: payload.clientId, instanceId: payload.instanceId }, (instance, now) => {
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
      fired = true;
      return change;
    });
    if (fired) await deps.workflows.start('terminate', { clientId: after.clientId, instanceId: after.id, version: after.version });
    return { instance: after, fired };
  }

  /**
   * Terminate every live instance whose deadline has passed; returns how many. Reads only the
   * deadlines due by now (an index by due time, a page at a time), however many are live; each
   * is decided again on the instance itself.
   */
  async function sweep(): Promise<number> {
    let terminated = 0;
    for await (const page of deps.instances.duePages('auto-terminate', deps.clock.now(), { minuteMs: policy.minuteMs })) {
      for (const entry of page) {
        const { fired } = await terminateWhenDue({ clientId: entry.clientId, instanceId: entry.id }, 'sweeper');
        if (fired) terminated++;
      }
    }
    return terminated;
  }

  /**
   * Idle stop (domain `idleStopDecision`): runs with the sweeper; the stop event says why. Reads
   * only the idle stops due by now, as the sweeper reads deadlines.
   */
  async function stopIdle(): Promise<number> {
    let stopped = 0;
    for await (const page of deps.instances.duePages('idle-stop', deps.clock.now(), { minuteMs: policy.minuteMs })) {
      for (const entry of page) if (await stopIfIdle({ clientId: entry.clientId, instanceId: entry.id })) stopped++;
    }
    return stopped;
  }

  /** Stops the instance if it is still idle past its idle stop when written; true if this call stopped it. */
  async function stopIfIdle(ref: { clientId: string; instanceId: string }): Promise<boolean> {
    const current = await deps.instances.get(ref.clientId, ref.instanceId);
    if (!current || idleStopDecision(current, deps.clock.now(), policy).kind !== 'stop') return false;
    let fired = false;
    const after = await mutateInstance(deps, ref, (instance, at) => {
      const decision = idleStopDecision(instance, at, policy);
      if (decision.kind !== 'stop') return null;
      fired = true;
      return transition(instance, 'stop', at, SYSTEM_ACTOR('idle-stop'), decision.reason);
    });
    if (fired) await deps.workflows.start('stop', { clientId: after.clientId, instanceId: after.id, version: after.version });
    return fired;
  }

  return { syncDeadline, onSchedule, terminateIfDue, sweep, stopIdle };
}

export type Automations = ReturnType<typeof makeAutomations>;

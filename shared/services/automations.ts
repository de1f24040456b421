import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { canApply, LIVE_STATUSES } from '../domain/lifecycle.ts';
import { microsToUnits } from '../domain/money.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import { deadlineScheduleName } from './schedule-names.ts';
import type { ServiceDeps } from './deps.ts';
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

/** Minutes before the deadline that the warning event is written. */
export const DEFAULT_WARNING_MINUTES = 5;

export const warningScheduleName = (instanceId: string) => deadlineScheduleName(instanceId).replace(/^terminate-/, 'warn-');

/**
 * Auto-terminate: each deadline is a one-time schedule (EventBridge Scheduler on AWS, the
 * table locally); a sweeper is the backstop for a schedule that was ever lost.
 */
export function makeAutomations(deps: ServiceDeps & { scheduler: Scheduler; warningMinutes?: number }) {
  const minuteMs = deps.deadlineMinuteMs ?? 60_000;
  const warningMinutes = deps.warningMinutes ?? DEFAULT_WARNING_MINUTES;

  /** Keep the instance's schedules in step with its deadline (set, moved, or gone). */
  async function syncDeadline(instance: Instance): Promise<void> {
    const name = deadlineScheduleName(instance.id);
    const warning = warningScheduleName(instance.id);
    if (!instance.autoTerminateAt || !canApply(instance.status, 'terminate')) {
      await Promise.all([deps.scheduler.cancel(name), deps.scheduler.cancel(warning)]);
      return;
    }
    const deadline = new Date(instance.autoTerminateAt);
    const payload = { clientId: instance.clientId, instanceId: instance.id };
    await deps.scheduler.scheduleOnce({ name, at: deadline, payload: { ...payload, kind: 'terminate' } });
    const warnAt = new Date(deadline.getTime() - warningMinutes * minuteMs);
    if (warnAt > deps.clock.now()) {
      await deps.scheduler.scheduleOnce({ name: warning, at: warnAt, payload: { ...payload, kind: 'warn', deadline: instance.autoTerminateAt } });
    } else {
      await deps.scheduler.cancel(warning);
    }
  }

  /** A schedule fired: warn ahead of the deadline, or terminate at it. */
  async function onSchedule(payload: DeadlinePayload): Promise<void> {
    if (payload.kind === 'warn') await warn(payload);
    else await terminateIfDue(payload, 'schedule');
  }

  /** Only for the deadline it was scheduled for: after an extend the warning is stale. */
  async function warn(payload: DeadlinePayload): Promise<void> {
    const instance = await deps.instances.get(payload.clientId, payload.instanceId);
    if (!instance?.autoTerminateAt || instance.autoTerminateAt !== payload.deadline || !canApply(instance.status, 'terminate')) return;
    const minutesLeft = Math.max(0, Math.round((Date.parse(instance.autoTerminateAt) - deps.clock.now().getTime()) / minuteMs));
    await deps.instances.appendEvent(instance, {
      type: 'instance.auto-terminate-warning',
      actor: ACTOR,
      message: `Will be auto-terminated at ${instance.autoTerminateAt} (in ${minutesLeft} minutes); extend it to keep it`,
      data: { autoTerminateAt: instance.autoTerminateAt },
      at: deps.clock.now().toISOString(),
    });
  }

  /**
   * The deadline came (or the sweeper found it passed). Terminates only if the deadline still
   * stands: an extend that raced the schedule wins, and a terminated instance stays terminated.
   */
  async function terminateIfDue(payload: DeadlinePayload, via: 'schedule' | 'sweeper'): Promise<Instance | null> {
    const current = await deps.instances.get(payload.clientId, payload.instanceId);
    if (!current?.autoTerminateAt || !canApply(current.status, 'terminate')) return current;
    let fired = false;
    const after = await mutateInstance(deps, { clientId: payload.clientId, instanceId: payload.instanceId }, (instance, now) => {
      if (!instance.autoTerminateAt || Date.parse(instance.autoTerminateAt) > now.getTime() || !canApply(instance.status, 'terminate')) return null;
      const change = transition(
        instance,
        'terminate',
        now,
        ACTOR,
        via === 'schedule' ? `Auto-terminated at its deadline ${instance.autoTerminateAt}` : `Auto-terminated by the sweeper: the deadline ${instance.autoTerminateAt} had passed`,
        { terminatedBy: ACTOR },
      );
      change.event.type = 'instance.auto-terminated';
      change.event.data = { costMicros: change.after.accruedCostMicros, cost: microsToUnits(change.after.accruedCostMicros), via };
      fired = true;
      return change;
    });
    if (fired) await deps.workflows.start('terminate', { clientId: after.clientId, instanceId: after.id, version: after.version });
    return after;
  }

  /** Terminate every live instance whose deadline has passed; returns how many. */
  async function sweep(): Promise<number> {
    const now = deps.clock.now().getTime();
    let terminated = 0;
    for (const status of LIVE_STATUSES) {
      for (const instance of await deps.instances.listByStatus(status)) {
        if (!instance.autoTerminateAt || Date.parse(instance.autoTerminateAt) > now) continue;
        const after = await terminateIfDue({ clientId: instance.clientId, instanceId: instance.id }, 'sweeper');
        if (after?.status === 'TERMINATING') terminated++;
      }
    }
    return terminated;
  }

  /**
   * Idle stop: an instance with `config.idleStopMinutes` that has stayed READY (no task) that
   * long is stopped, and its events say why. Runs with the sweeper.
   */
  async function stopIdle(): Promise<number> {
    const now = deps.clock.now().getTime();
    let stopped = 0;
    for (const instance of await deps.instances.listByStatus('READY')) {
      const idleFor = instance.config.idleStopMinutes;
      if (!idleFor || !instance.idleSince || Date.parse(instance.idleSince) + idleFor * minuteMs > now) continue;
      let fired = false;
      const after = await mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current, at) => {
        if (current.status !== 'READY' || !current.idleSince || Date.parse(current.idleSince) + idleFor * minuteMs > at.getTime()) return null;
        fired = true;
        return transition(current, 'stop', at, SYSTEM_ACTOR('idle-stop'), `Stopped after ${idleFor} minutes idle (READY with no task since ${current.idleSince})`);
      });
      if (!fired) continue;
      await deps.workflows.start('stop', { clientId: after.clientId, instanceId: after.id, version: after.version });
      stopped++;
    }
    return stopped;
  }

  return { syncDeadline, onSchedule, terminateIfDue, sweep, stopIdle };
}

export type Automations = ReturnType<typeof makeAutomations>;

import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { canApply, LIVE_STATUSES } from '../domain/lifecycle.ts';
import { microsToDisplay } from '../domain/money.ts';
import { deadlineScheduleName, type Scheduler } from '../ports/scheduler.ts';
import type { ServiceDeps } from './deps.ts';
import { mutateInstance, transition } from './instance-changes.ts';

const ACTOR = SYSTEM_ACTOR('auto-terminate');

/** What a deadline schedule carries to the handler that fires it. */
export interface DeadlinePayload {
  clientId: string;
  instanceId: string;
}

/**
 * Auto-terminate: each deadline is a one-time schedule (EventBridge Scheduler on AWS, the
 * table locally); a sweeper is the backstop for a schedule that was ever lost.
 */
export function makeAutomations(deps: ServiceDeps & { scheduler: Scheduler }) {
  /** Keep the instance's schedule in step with its deadline (set, moved, or gone). */
  async function syncDeadline(instance: Instance): Promise<void> {
    const name = deadlineScheduleName(instance.id);
    if (instance.autoTerminateAt && canApply(instance.status, 'terminate')) {
      await deps.scheduler.scheduleOnce({
        name,
        at: new Date(instance.autoTerminateAt),
        payload: { clientId: instance.clientId, instanceId: instance.id },
      });
    } else {
      await deps.scheduler.cancel(name);
    }
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
      change.event.data = { costMicros: change.after.accruedCostMicros, cost: microsToDisplay(change.after.accruedCostMicros), via };
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

  return { syncDeadline, terminateIfDue, sweep };
}

export type Automations = ReturnType<typeof makeAutomations>;

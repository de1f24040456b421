import { VersionConflictError } from '../domain/errors.ts';
import type { InstanceEvent } from '../domain/events.ts';
import { applyAction, type Instance, type TransitionChanges } from '../domain/instance.ts';
import type { InstanceAction } from '../domain/lifecycle.ts';
import type { InstanceRepository } from '../ports/instance-repository.ts';
import type { Clock } from '../ports/clock.ts';

export type EventInput = Omit<InstanceEvent, 'eventId' | 'instanceId' | 'clientId' | 'at'>;

/** A status change and the event that records it, as one value to persist together. */
export function transition(
  instance: Instance,
  action: InstanceAction,
  at: Date,
  actor: string,
  message: string,
  changes: TransitionChanges = {},
  data?: Record<string, unknown>,
): { after: Instance; event: EventInput } {
  const after = applyAction(instance, action, at, changes);
  return {
    after,
    event: {
      type: after.status === instance.status ? `instance.${action}` : 'instance.status-changed',
      action,
      fromStatus: instance.status,
      toStatus: after.status,
      actor,
      message,
      ...(data ? { data } : {}),
    },
  };
}

/**
 * Read, decide, write — again if someone else wrote in between. For Hangar's own steps, which
 * must not give up because a person renamed the instance at the same moment. `decide` returns
 * null when there is nothing to do (the step already ran), which keeps every step idempotent,
 * and no event for a refreshed fact that is not a change (a health check's time). Several
 * changes found at once (a machine up, configured and ready) are one write with their events
 * in order (`events`). A caller that has just read the instance passes it as `read`: the first
 * decision is made on it, and since the write is conditional on its version, a stale copy only
 * costs the read it saved.
 */
export async function mutateInstance(
  deps: { instances: InstanceRepository; clock: Clock },
  ref: { clientId: string; instanceId: string },
  decide: (current: Instance, now: Date) => { after: Instance; event?: EventInput; events?: EventInput[] } | null,
  { attempts = 5, read }: { attempts?: number; read?: Instance } = {},
): Promise<Instance> {
  for (let attempt = 1; ; attempt++) {
    const current = attempt === 1 && read ? read : await deps.instances.get(ref.clientId, ref.instanceId);
    if (!current) throw new Error(`Instance ${ref.instanceId} of client ${ref.clientId} does not exist`);
    const change = decide(current, deps.clock.now());
    if (!change) return current;
    try {
      await deps.instances.save(current, change.after, [...(change.event ? [change.event] : []), ...(change.events ?? [])]);
      return change.after;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
    }
  }
}

import type { InstanceEvent } from '../../domain/events.ts';

/** An event as the WebSocket contract shows it: `{id, type, instanceId, clientId, fromStatus, toStatus, actor, message, at}`. */
export function presentEvent(event: InstanceEvent) {
  return {
    id: event.eventId,
    type: event.type,
    instanceId: event.instanceId,
    clientId: event.clientId,
    fromStatus: event.fromStatus ?? null,
    toStatus: event.toStatus ?? null,
    actor: event.actor,
    message: event.message,
    at: event.at,
  };
}

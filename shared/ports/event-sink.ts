import type { InstanceEvent } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';

/**
 * One event on its way out of Hangar, with the instance as it was right after the event
 * (null for events that concern no instance, e.g. a client's budget threshold).
 */
export interface OutboundEvent {
  event: InstanceEvent;
  instance: Instance | null;
}

/**
 * Where the event router (fed by DynamoDB Streams on AWS, by the local runtime's stream reader
 * locally) hands every event: WebSocket subscribers, webhook endpoints, the EventBridge bus.
 * Events arrive in the order they were written for each instance. A sink that throws has the
 * batch retried, so delivery must be idempotent per event id.
 */
export interface EventSink {
  readonly name: string;
  deliver(events: OutboundEvent[]): Promise<void>;
}

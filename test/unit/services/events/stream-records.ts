import { marshall } from '@aws-sdk/util-dynamodb';
import type { StreamRecord } from '../../../../shared/db/event-stream-records.ts';
import type { InstanceEvent } from '../../../../shared/domain/events.ts';

let sequence = 100;

/** The stream record DynamoDB writes when an event item is inserted (keys as shared/db/keys.ts spells them). */
export function eventRecord(event: InstanceEvent, eventName = 'INSERT'): StreamRecord {
  const keys = { pk: `INSTANCE#${event.instanceId}`, sk: `EVENT#${event.eventId}` };
  return {
    eventID: `e${sequence}`,
    eventName,
    dynamodb: {
      Keys: marshall(keys),
      NewImage: marshall({ ...keys, gsi1pk: `CLIENT#${event.clientId}#EVENTS`, gsi1sk: event.eventId, entityType: 'instanceEvent', version: 1, ...event }, { removeUndefinedValues: true }),
      SequenceNumber: String(sequence++),
    },
  };
}

/** Any other item's record: an instance, a health check beside the events. */
export function otherRecord(pk: string, sk: string, eventName = 'INSERT'): StreamRecord {
  return { eventID: `o${sequence}`, eventName, dynamodb: { Keys: marshall({ pk, sk }), NewImage: marshall({ pk, sk, status: 'READY' }), SequenceNumber: String(sequence++) } };
}

export function makeEvent(overrides: Partial<InstanceEvent> & Pick<InstanceEvent, 'eventId'>): InstanceEvent {
  return {
    instanceId: 'vps-web-server-abc123',
    clientId: 'client-1',
    type: 'instance.status-changed',
    fromStatus: 'PENDING',
    toStatus: 'PROVISIONING',
    actor: 'system:workflow',
    message: 'Provisioning',
    at: '2026-01-01T00:00:01.000Z',
    ...overrides,
  };
}

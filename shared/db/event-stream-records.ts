import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { InstanceEvent } from '../domain/events.ts';
import { KEY_TEMPLATES } from './keys.ts';

/**
 * A DynamoDB Streams record, as Lambda's event source mapping delivers it and as GetRecords
 * returns it (the local stream reader): the two shapes agree on what the router reads.
 */
export interface StreamRecord {
  eventID?: string;
  eventName?: string;
  dynamodb?: {
    Keys?: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
    SequenceNumber?: string;
  };
}

/** The fixed beginning of a key template, up to its first `${…}` part. */
const prefixOf = (template: string) => template.slice(0, template.indexOf('${'));

/**
 * What makes a stream record an instance event: an INSERT whose keys follow the event template
 * (`INSTANCE#<id>` / `EVENT#<ulid>`; health checks and samples share the partition but not the
 * sort prefix). The CDK event-source filter is built from this too, so the two cannot disagree.
 */
export const EVENT_ITEM_MATCH = {
  eventName: 'INSERT',
  pkPrefix: prefixOf(KEY_TEMPLATES.instanceEvent.pk),
  skPrefix: prefixOf(KEY_TEMPLATES.instanceEvent.sk),
} as const;

/** The Lambda event-source filter pattern for event items (shared by CDK and its tests). */
export const eventItemFilterPattern = () => ({
  eventName: [EVENT_ITEM_MATCH.eventName],
  dynamodb: {
    Keys: {
      pk: { S: [{ prefix: EVENT_ITEM_MATCH.pkPrefix }] },
      sk: { S: [{ prefix: EVENT_ITEM_MATCH.skPrefix }] },
    },
  },
});

const stringKey = (keys: Record<string, unknown> | undefined, name: string) => (keys?.[name] as { S?: string } | undefined)?.S;

export function isEventRecord(record: StreamRecord): boolean {
  const keys = record.dynamodb?.Keys;
  return (
    record.eventName === EVENT_ITEM_MATCH.eventName &&
    Boolean(stringKey(keys, 'pk')?.startsWith(EVENT_ITEM_MATCH.pkPrefix)) &&
    Boolean(stringKey(keys, 'sk')?.startsWith(EVENT_ITEM_MATCH.skPrefix))
  );
}

/** The instance event a record inserted, or null for any other record (or one without its new image). */
export function eventOfRecord(record: StreamRecord): InstanceEvent | null {
  if (!isEventRecord(record) || !record.dynamodb?.NewImage) return null;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.eventId !== 'string' || typeof item.instanceId !== 'string' || typeof item.clientId !== 'string') return null;
  const event: InstanceEvent = {
    eventId: item.eventId,
    instanceId: item.instanceId,
    clientId: item.clientId,
    type: item.type,
    actor: item.actor,
    message: item.message,
    at: item.at,
  };
  if (item.action !== undefined) event.action = item.action;
  if (item.fromStatus !== undefined) event.fromStatus = item.fromStatus;
  if (item.toStatus !== undefined) event.toStatus = item.toStatus;
  if (item.data !== undefined) event.data = item.data;
  return event;
}

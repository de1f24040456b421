import type { InstanceEvent } from '../../domain/events.ts';
import { webhookTypeOf } from '../../domain/webhooks.ts';
import { presentInstance } from '../../http/present.ts';
import { presentEvent } from '../events/present-event.ts';
import type { OutboundEvent } from '../../ports/event-sink.ts';

/** An event as it leaves Hangar (webhooks, EventBridge): the fields of the WebSocket contract, and its data. */
export function presentOutboundEvent(event: InstanceEvent) {
  return { ...presentEvent(event), ...(event.data ? { data: event.data } : {}) };
}

/**
 * The event and the instance as it was right after it, costed at the event's time (so an
 * `instance.terminated` carries the instance's final total cost).
 */
export function outboundData({ event, instance }: OutboundEvent) {
  return {
    event: presentOutboundEvent(event),
    instance: instance ? presentInstance(instance, new Date(event.at)) : null,
  };
}

/** EventBridge's `detail`: the public type beside the same data a webhook carries, so rules can match `detail.type`. */
export const outboundDetail = (outbound: OutboundEvent) => ({ type: webhookTypeOf(outbound.event), ...outboundData(outbound) });

/** A Standard Webhooks body: `{"type","timestamp","data":{"event","instance"}}`. */
export function webhookBody(type: string, outbound: OutboundEvent): string {
  return JSON.stringify({ type, timestamp: outbound.event.at, data: outboundData(outbound) });
}

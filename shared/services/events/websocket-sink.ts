import { channelsOf, mayHear, type Channel, type RealtimeSubscription } from '../../domain/realtime.ts';
import { presentInstance } from '../../http/present.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventSink, OutboundEvent } from '../../ports/event-sink.ts';
import type { RealtimeRepository } from '../../ports/realtime-repository.ts';
import type { WebSocketPublisher } from '../../ports/websocket-publisher.ts';
import { presentEvent } from './present-event.ts';

export interface WebSocketSinkDeps {
  realtime: RealtimeRepository;
  publisher: WebSocketPublisher;
  clock: Clock;
  /** Told about a send that failed for another reason than a gone socket. */
  onSendError?: (connectionId: string, error: unknown) => void;
}

/** A socket this young may still be in its handshake, where a send finds no connection yet: not gone. */
const HANDSHAKE_GRACE_MS = 10_000;

/**
 * The router's WebSocket sink: every event goes to the subscribers of its client's channel and
 * of its instance's channel, as `{"type":"event","channel","event","instance"}`. An instance's
 * events are sent one after the other (the next only once the previous reached every socket), so
 * each socket gets them in write order; different instances go side by side. A subscriber of
 * another client never hears an event, whatever its subscriptions say. Sockets found gone are
 * forgotten; other send failures are reported, not retried: a live feed is not a mailbox, and
 * the event log (GET /api/instances/{id}/events) has everything.
 */
export function makeWebSocketSink(deps: WebSocketSinkDeps): EventSink {
  return {
    name: 'websocket',
    async deliver(events: OutboundEvent[]): Promise<void> {
      const now = deps.clock.now();
      const listeners = new Map<Channel, Promise<RealtimeSubscription[]>>();
      const subscribersOf = (channel: Channel) => {
        let found = listeners.get(channel);
        if (!found) listeners.set(channel, (found = deps.realtime.subscribers(channel, now)));
        return found;
      };
      const gone = new Set<string>();

      const send = async (subscription: RealtimeSubscription, message: unknown) => {
        try {
          if ((await deps.publisher.send(subscription.connectionId, message)) === 'gone') gone.add(subscription.connectionId);
        } catch (error) {
          deps.onSendError?.(subscription.connectionId, error);
        }
      };

      const byInstance = new Map<string, OutboundEvent[]>();
      for (const outbound of events) {
        const key = `${outbound.event.clientId}/${outbound.event.instanceId}`;
        const inOrder = byInstance.get(key);
        if (inOrder) inOrder.push(outbound);
        else byInstance.set(key, [outbound]);
      }
      await Promise.all(
        [...byInstance.values()].map(async (inOrder) => {
          for (const { event, instance } of inOrder) {
            const shown = { event: presentEvent(event), instance: instance ? presentInstance(instance, deps.clock.now()) : null };
            for (const channel of channelsOf(event)) {
              const hearing = (await subscribersOf(channel)).filter((s) => mayHear(s.clientId, event.clientId) && !gone.has(s.connectionId));
              await Promise.all(hearing.map((s) => send(s, { type: 'event', channel, ...shown })));
            }
          }
        }),
      );
      await Promise.all([...gone].map((connectionId) => forgetIfGone(deps, connectionId)));
    },
  };
}

async function forgetIfGone(deps: WebSocketSinkDeps, connectionId: string): Promise<void> {
  const now = deps.clock.now();
  const connection = await deps.realtime.getConnection(connectionId, now);
  if (connection && now.getTime() - Date.parse(connection.connectedAt) < HANDSHAKE_GRACE_MS) return;
  await deps.realtime.deleteConnection(connectionId);
}

import type { Channel, RealtimeConnection, RealtimeSubscription, RealtimeTicket } from '../domain/realtime.ts';

/**
 * WebSocket tickets, connections and subscriptions. Every item expires (DynamoDB's TTL on AWS);
 * since TTL deletion lags, reads never return an item past its `expiresAt`.
 */
export interface RealtimeRepository {
  saveTicket(ticket: RealtimeTicket): Promise<void>;
  /**
   * Takes the ticket out, once: the first caller within its lifetime gets it, every later one
   * (and any caller after `now` passed `expiresAt`) gets null. Atomic across processes.
   */
  consumeTicket(ticketHash: string, now: Date): Promise<RealtimeTicket | null>;
  saveConnection(connection: RealtimeConnection): Promise<void>;
  getConnection(connectionId: string, now: Date): Promise<RealtimeConnection | null>;
  /** The connection and all its subscriptions; a missing one is no error. */
  deleteConnection(connectionId: string): Promise<void>;
  subscribe(subscription: RealtimeSubscription): Promise<void>;
  /** Answers whether the connection was subscribed. */
  unsubscribe(connectionId: string, channel: Channel): Promise<boolean>;
  /** A connection's live subscriptions. */
  subscriptionsOf(connectionId: string, now: Date): Promise<RealtimeSubscription[]>;
  /** Everyone listening on a channel now. */
  subscribers(channel: Channel, now: Date): Promise<RealtimeSubscription[]>;
}

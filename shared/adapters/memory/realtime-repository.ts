import type { Channel, RealtimeConnection, RealtimeSubscription, RealtimeTicket } from '../../domain/realtime.ts';
import type { RealtimeRepository } from '../../ports/realtime-repository.ts';
import { copy } from './memory-page.ts';

/** The in-memory RealtimeRepository: maps, with expiry checked on read as the DynamoDB one does. */
export class MemoryRealtimeRepository implements RealtimeRepository {
  private readonly tickets = new Map<string, RealtimeTicket>();
  private readonly connections = new Map<string, RealtimeConnection>();
  /** connectionId → channel → subscription */
  private readonly subscriptions = new Map<string, Map<Channel, RealtimeSubscription>>();

  async saveTicket(ticket: RealtimeTicket): Promise<void> {
    this.tickets.set(ticket.ticketHash, copy(ticket));
  }

  async consumeTicket(ticketHash: string, now: Date): Promise<RealtimeTicket | null> {
    const ticket = this.tickets.get(ticketHash);
    if (!ticket || ticket.expiresAt <= now.toISOString()) return null;
    this.tickets.delete(ticketHash);
    return copy(ticket);
  }

  async saveConnection(connection: RealtimeConnection): Promise<void> {
    this.connections.set(connection.connectionId, copy(connection));
  }

  async getConnection(connectionId: string, now: Date): Promise<RealtimeConnection | null> {
    const connection = this.connections.get(connectionId);
    return connection && connection.expiresAt > now.toISOString() ? copy(connection) : null;
  }

  async deleteConnection(connectionId: string): Promise<void> {
    this.connections.delete(connectionId);
    this.subscriptions.delete(connectionId);
  }

  async subscribe(subscription: RealtimeSubscription): Promise<void> {
    let channels = this.subscriptions.get(subscription.connectionId);
    if (!channels) this.subscriptions.set(subscription.connectionId, (channels = new Map()));
    channels.set(subscription.channel, copy(subscription));
  }

  async unsubscribe(connectionId: string, channel: Channel): Promise<boolean> {
    return this.subscriptions.get(connectionId)?.delete(channel) ?? false;
  }

  async subscriptionsOf(connectionId: string, now: Date): Promise<RealtimeSubscription[]> {
    const live = [...(this.subscriptions.get(connectionId)?.values() ?? [])].filter((s) => s.expiresAt > now.toISOString());
    return live.sort((a, b) => a.channel.localeCompare(b.channel)).map(copy);
  }

  async subscribers(channel: Channel, now: Date): Promise<RealtimeSubscription[]> {
    const found: RealtimeSubscription[] = [];
    for (const channels of this.subscriptions.values()) {
      const subscription = channels.get(channel);
      if (subscription && subscription.expiresAt > now.toISOString()) found.push(copy(subscription));
    }
    return found.sort((a, b) => a.connectionId.localeCompare(b.connectionId));
  }
}

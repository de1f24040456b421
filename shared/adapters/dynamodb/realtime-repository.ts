import type { Db } from '../../db/db.ts';
import { PLATFORM_CLIENT_ID } from '../../domain/roles.ts';
import { isConditionFailure } from '../../db/transactions.ts';
import type { Channel, RealtimeConnection, RealtimeSubscription, RealtimeTicket } from '../../domain/realtime.ts';
import type { RealtimeRepository } from '../../ports/realtime-repository.ts';

/** A key attribute cannot be null: the platform admin's "no client" is stored as PLATFORM. */
const storedClient = (clientId: string | null) => clientId ?? PLATFORM_CLIENT_ID;
const clientOf = (stored: string) => (stored === PLATFORM_CLIENT_ID ? null : stored);
const ttlOf = (expiresAt: string) => Math.ceil(Date.parse(expiresAt) / 1000);

/** Tickets, connections and subscriptions on the one table (shared/db/realtime-entities.ts). */
export class DynamoRealtimeRepository implements RealtimeRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).realtime;
  }

  async saveTicket(ticket: RealtimeTicket): Promise<void> {
    await (await this.entities()).ticket.put({ ...ticket, clientId: storedClient(ticket.clientId), ttl: ttlOf(ticket.expiresAt) }).go();
  }

  /** One conditional delete: of two sockets opened with the same ticket, exactly one gets it. */
  async consumeTicket(ticketHash: string, now: Date): Promise<RealtimeTicket | null> {
    try {
      const { data } = await (await this.entities()).ticket
        .delete({ ticketHash })
        .where(({ expiresAt }, { gt }) => gt(expiresAt, now.toISOString()))
        .go({ response: 'all_old' });
      if (!data) return null;
      const { ttl: _ttl, entityType: _type, ...ticket } = data as typeof data & { entityType?: string };
      return { ...(ticket as unknown as RealtimeTicket), clientId: clientOf(data.clientId) };
    } catch (error) {
      // Already taken, never issued, or expired: the condition fails on a missing item too.
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async saveConnection(connection: RealtimeConnection): Promise<void> {
    await (await this.entities()).connection.put({ ...connection, clientId: storedClient(connection.clientId), ttl: ttlOf(connection.expiresAt) }).go();
  }

  async getConnection(connectionId: string, now: Date): Promise<RealtimeConnection | null> {
    const { data } = await (await this.entities()).connection.get({ connectionId }).go({ consistent: true });
    if (!data || data.expiresAt <= now.toISOString()) return null;
    return {
      connectionId: data.connectionId,
      keyId: data.keyId,
      role: data.role,
      clientId: clientOf(data.clientId),
      connectedAt: data.connectedAt,
      expiresAt: data.expiresAt,
    };
  }

  async deleteConnection(connectionId: string): Promise<void> {
    const { subscription, connection } = await this.entities();
    const { data } = await subscription.query.byConnection({ connectionId }).go({ pages: 'all', attributes: ['connectionId', 'channel'] });
    await Promise.all(data.map((s) => subscription.delete({ connectionId, channel: s.channel }).go()));
    await connection.delete({ connectionId }).go();
  }

  async subscribe(subscription: RealtimeSubscription): Promise<void> {
    await (await this.entities()).subscription.put({ ...subscription, clientId: storedClient(subscription.clientId), ttl: ttlOf(subscription.expiresAt) }).go();
  }

  async unsubscribe(connectionId: string, channel: Channel): Promise<boolean> {
    const { data } = await (await this.entities()).subscription.delete({ connectionId, channel }).go({ response: 'all_old' });
    return Boolean(data);
  }

  async subscriptionsOf(connectionId: string, now: Date): Promise<RealtimeSubscription[]> {
    const { data } = await (await this.entities()).subscription.query.byConnection({ connectionId }).go({ pages: 'all' });
    return data.filter((s) => s.expiresAt > now.toISOString()).map(toSubscription);
  }

  async subscribers(channel: Channel, now: Date): Promise<RealtimeSubscription[]> {
    const { data } = await (await this.entities()).subscription.query.byChannel({ channel }).go({ pages: 'all' });
    return data.filter((s) => s.expiresAt > now.toISOString()).map(toSubscription);
  }
}

function toSubscription(item: { connectionId: string; channel: string; clientId: string; expiresAt: string }): RealtimeSubscription {
  return { connectionId: item.connectionId, channel: item.channel as Channel, clientId: clientOf(item.clientId), expiresAt: item.expiresAt };
}

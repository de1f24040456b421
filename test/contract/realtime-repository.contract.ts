/** What every RealtimeRepository must do: single-use tickets, connections with their subscriptions, expiry on read. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import type { RealtimeConnection, RealtimeTicket } from '../../shared/domain/realtime.ts';
import type { RealtimeRepository } from '../../shared/ports/realtime-repository.ts';

export type RealtimeRepositorySubject = RepositorySubject<RealtimeRepository>;

export function runRealtimeRepositoryContract(name: string, makeSubject: () => Promise<RealtimeRepositorySubject>): void {
  describe(`RealtimeRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const unique = (label: string) => `${label}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const NOW = new Date('2026-01-01T00:00:00.000Z');
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    const ticket = (overrides: Partial<RealtimeTicket> = {}): RealtimeTicket => ({
      ticketHash: unique('hash'),
      keyId: 'key-1',
      role: 'operator',
      clientId: 'client-1',
      issuedAt: NOW.toISOString(),
      expiresAt: at(60_000).toISOString(),
      ...overrides,
    });
    const connection = (overrides: Partial<RealtimeConnection> = {}): RealtimeConnection => ({
      connectionId: unique('conn'),
      keyId: 'key-1',
      role: 'viewer',
      clientId: 'client-1',
      connectedAt: NOW.toISOString(),
      expiresAt: at(7_200_000).toISOString(),
      ...overrides,
    });

    it('gives a ticket back once, then never again', async () => {
      const issued = ticket();
      await repo.saveTicket(issued);
      expect(await repo.consumeTicket(issued.ticketHash, at(1000))).toEqual(issued);
      expect(await repo.consumeTicket(issued.ticketHash, at(1000))).toBeNull();
      expect(await repo.consumeTicket(unique('never-issued'), at(1000))).toBeNull();
    });

    it('gives one of two concurrent takers the ticket', async () => {
      const issued = ticket();
      await repo.saveTicket(issued);
      const taken = await Promise.all([repo.consumeTicket(issued.ticketHash, at(1)), repo.consumeTicket(issued.ticketHash, at(1))]);
      expect(taken.filter(Boolean)).toHaveLength(1);
    });

    it('refuses a ticket at and after its expiry, and keeps the platform admin as no client', async () => {
      const expiring = ticket();
      await repo.saveTicket(expiring);
      expect(await repo.consumeTicket(expiring.ticketHash, at(60_000))).toBeNull();
      const admin = ticket({ clientId: null, role: 'platform-admin' });
      await repo.saveTicket(admin);
      expect(await repo.consumeTicket(admin.ticketHash, at(59_999))).toEqual(admin);
    });

    it('keeps a connection until it expires or is deleted, with its subscriptions', async () => {
      const open = connection();
      await repo.saveConnection(open);
      expect(await repo.getConnection(open.connectionId, at(1000))).toEqual(open);
      expect(await repo.getConnection(open.connectionId, at(7_200_000))).toBeNull();
      await repo.subscribe({ connectionId: open.connectionId, channel: 'client.client-1', clientId: 'client-1', expiresAt: open.expiresAt });
      await repo.subscribe({ connectionId: open.connectionId, channel: 'instance.vps-a-aaaaaa', clientId: 'client-1', expiresAt: open.expiresAt });
      expect((await repo.subscriptionsOf(open.connectionId, at(1000))).map((s) => s.channel)).toEqual(['client.client-1', 'instance.vps-a-aaaaaa']);
      await repo.deleteConnection(open.connectionId);
      expect(await repo.getConnection(open.connectionId, at(1000))).toBeNull();
      expect(await repo.subscriptionsOf(open.connectionId, at(1000))).toEqual([]);
      // Deleting what is gone is no error.
      await repo.deleteConnection(open.connectionId);
    });

    it("lists a channel's live subscribers, each with its connection's client", async () => {
      const channel = `instance.${unique('vps')}` as const;
      const first = connection();
      const second = connection({ clientId: null, role: 'platform-admin' });
      const stale = connection({ expiresAt: at(1000).toISOString() });
      for (const c of [first, second, stale]) {
        await repo.saveConnection(c);
        await repo.subscribe({ connectionId: c.connectionId, channel, clientId: c.clientId, expiresAt: c.expiresAt });
      }
      const listening = await repo.subscribers(channel, at(2000));
      expect(listening.map((s) => s.connectionId).sort()).toEqual([first.connectionId, second.connectionId].sort());
      expect(listening.find((s) => s.connectionId === second.connectionId)).toEqual({ connectionId: second.connectionId, channel, clientId: null, expiresAt: second.expiresAt });
      expect(await repo.subscribers(`instance.${unique('nobody')}`, at(2000))).toEqual([]);
    });

    it('unsubscribes one channel, saying whether it was subscribed', async () => {
      const open = connection();
      await repo.saveConnection(open);
      await repo.subscribe({ connectionId: open.connectionId, channel: 'client.client-1', clientId: 'client-1', expiresAt: open.expiresAt });
      expect(await repo.unsubscribe(open.connectionId, 'client.client-1')).toBe(true);
      expect(await repo.unsubscribe(open.connectionId, 'client.client-1')).toBe(false);
      expect((await repo.subscribers('client.client-1', at(1000))).map((s) => s.connectionId)).not.toContain(open.connectionId);
    });
  });
}

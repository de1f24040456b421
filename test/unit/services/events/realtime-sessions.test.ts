import { describe, expect, it } from 'vitest';
import { MemoryRealtimeRepository } from '../../../../shared/adapters/memory/realtime-repository.ts';
import { NotFoundError, UnauthorizedError } from '../../../../shared/domain/errors.ts';
import type { Principal } from '../../../../shared/domain/roles.ts';
import { hashTicket, makeRealtimeSessions, MAX_SUBSCRIPTIONS } from '../../../../shared/services/events/realtime-sessions.ts';
import { ManualClock } from '../../../support/manual-clock.ts';
import { makeInstance } from '../../domain/fixtures.ts';

const viewer: Principal = { keyId: 'key-v', role: 'viewer', clientId: 'client-1' };
const admin: Principal = { keyId: 'key-admin', role: 'platform-admin', clientId: null };
const mine = makeInstance({ id: 'vps-mine-aaaaaa', clientId: 'client-1' });
const theirs = makeInstance({ id: 'vps-theirs-bbbbbb', clientId: 'client-2' });

function setup() {
  const repo = new MemoryRealtimeRepository();
  const clock = new ManualClock(new Date('2026-01-01T00:00:00.000Z'));
  const sessions = makeRealtimeSessions({
    realtime: repo,
    clock,
    // The HTTP rule: a client's key sees its own instances; the platform admin any.
    readInstance: async (principal, id) => {
      const found = [mine, theirs].find((i) => i.id === id && (principal.clientId === null || principal.clientId === i.clientId));
      if (!found) throw new NotFoundError('Instance', id);
      return found;
    },
    clients: { get: async (id) => (id === 'client-1' || id === 'client-2' ? ({ clientId: id } as never) : null) },
  });
  return { repo, clock, sessions };
}

describe('WebSocket sessions', () => {
  it('issues a 60-second ticket pointing at the gateway, stored only as its hash', async () => {
    const { repo, sessions, clock } = setup();
    const ticket = await sessions.issueTicket(viewer, 'ws://localhost:3000/ws');
    expect(ticket.expiresAt).toBe('2026-01-01T00:01:00.000Z');
    expect(ticket.url).toBe(`ws://localhost:3000/ws?ticket=${encodeURIComponent(ticket.value)}`);
    expect(await repo.consumeTicket(ticket.value, clock.now())).toBeNull();
    expect(await repo.consumeTicket(hashTicket(ticket.value), clock.now())).toMatchObject({ keyId: 'key-v', clientId: 'client-1' });
  });

  it('points tickets at the configured URL when there is one (the stage on AWS)', async () => {
    const { repo, clock } = setup();
    const sessions = makeRealtimeSessions({ realtime: repo, clock, readInstance: async () => mine, clients: { get: async () => null }, webSocketUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/live' });
    const ticket = await sessions.issueTicket(viewer, 'ws://ignored/ws');
    expect(ticket.url.startsWith('wss://abc.execute-api.eu-west-1.amazonaws.com/live?ticket=')).toBe(true);
  });

  it('spends a ticket once, refuses it after 60 s, and refuses none at all', async () => {
    const { sessions, clock } = setup();
    const once = await sessions.issueTicket(viewer, 'ws://h/ws');
    await expect(sessions.connect('c1', once.value)).resolves.toMatchObject({ connectionId: 'c1', clientId: 'client-1' });
    await expect(sessions.connect('c2', once.value)).rejects.toBeInstanceOf(UnauthorizedError);
    const late = await sessions.issueTicket(viewer, 'ws://h/ws');
    clock.advance(60_000);
    await expect(sessions.connect('c3', late.value)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(sessions.connect('c4', undefined)).rejects.toThrow('Missing ticket');
  });

  it("subscribes a client's socket to its client at once, the platform admin's to nothing", async () => {
    const { repo, sessions, clock } = setup();
    await sessions.connect('c1', (await sessions.issueTicket(viewer, 'ws://h/ws')).value);
    await sessions.connect('c2', (await sessions.issueTicket(admin, 'ws://h/ws')).value);
    expect((await repo.subscriptionsOf('c1', clock.now())).map((s) => s.channel)).toEqual(['client.client-1']);
    expect(await repo.subscriptionsOf('c2', clock.now())).toEqual([]);
    await sessions.disconnect('c1');
    expect(await repo.getConnection('c1', clock.now())).toBeNull();
    expect(await repo.subscriptionsOf('c1', clock.now())).toEqual([]);
  });

  it("authorizes channels as the HTTP API does: another client's instance or channel is NOT_FOUND", async () => {
    const { sessions } = setup();
    await sessions.connect('c1', (await sessions.issueTicket(viewer, 'ws://h/ws')).value);
    const say = (message: unknown) => sessions.receive('c1', JSON.stringify(message));
    expect(await say({ action: 'subscribe', channel: `instance.${mine.id}` })).toEqual({ type: 'subscribed', channel: `instance.${mine.id}` });
    expect(await say({ action: 'subscribe', channel: `instance.${theirs.id}` })).toMatchObject({ type: 'error', code: 'NOT_FOUND', channel: `instance.${theirs.id}` });
    expect(await say({ action: 'subscribe', channel: 'client.client-2' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await say({ action: 'unsubscribe', channel: 'client.client-1' })).toEqual({ type: 'unsubscribed', channel: 'client.client-1' });
    expect(await say({ action: 'ping' })).toEqual({ type: 'pong' });
    expect(await sessions.receive('c1', 'not json')).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(await say({ action: 'subscribe', channel: 'instances' })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(await say({ action: 'subscribe' })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });

  it('lets the platform admin subscribe to any existing client and instance', async () => {
    const { sessions } = setup();
    await sessions.connect('a1', (await sessions.issueTicket(admin, 'ws://h/ws')).value);
    const say = (message: unknown) => sessions.receive('a1', JSON.stringify(message));
    expect(await say({ action: 'subscribe', channel: 'client.client-2' })).toEqual({ type: 'subscribed', channel: 'client.client-2' });
    expect(await say({ action: 'subscribe', channel: `instance.${theirs.id}` })).toEqual({ type: 'subscribed', channel: `instance.${theirs.id}` });
    expect(await say({ action: 'subscribe', channel: 'client.nobody' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it(`caps a socket at ${MAX_SUBSCRIPTIONS} channels`, async () => {
    const { repo, sessions, clock } = setup();
    await sessions.connect('c1', (await sessions.issueTicket(viewer, 'ws://h/ws')).value);
    for (let i = 1; i < MAX_SUBSCRIPTIONS; i++) await repo.subscribe({ connectionId: 'c1', channel: `instance.x${i}`, clientId: 'client-1', expiresAt: '2026-01-01T02:00:00.000Z' });
    expect((await repo.subscriptionsOf('c1', clock.now())).length).toBe(MAX_SUBSCRIPTIONS);
    expect(await sessions.receive('c1', JSON.stringify({ action: 'subscribe', channel: `instance.${mine.id}` }))).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });
});

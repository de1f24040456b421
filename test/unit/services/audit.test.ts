import { describe, expect, it } from 'vitest';
import { businessHarness, PLATFORM } from './business-harness.ts';

describe('business actions', () => {
  it('a database named production-db, created by the platform admin for a client given by name, is logged as who did it for whom', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'Registry Co' });
    const instance = await h.instances.create(PLATFORM, { clientId: 'registry co', type: 'database', name: 'production-db' });
    expect(instance.id).toMatch(/^database-production-db-[a-z0-9]{6}$/);

    const own = h.keyOf(client.clientId, 'admin');
    const { items } = await h.audit.list(own, { action: 'instance' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      actor: `key:${PLATFORM.keyId}`,
      clientId: client.clientId,
      action: 'instance.create',
      target: `instance:${instance.id}`,
      details: { actorRole: 'platform-admin', onBehalfOf: client.clientId, name: 'production-db' },
    });
    expect(items[0]!.at).toBe(instance.createdAt);
  });

  it('records every act on the client: create, update, actions, terminate, keys; newest first, in cursor pages', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'Acme' });
    const admin = h.keyOf(client.clientId, 'admin');
    const { record } = await h.clients.issueApiKey(admin, client.clientId, { name: 'ci', role: 'operator' });
    const operator = h.keyOf(client.clientId, 'operator', record.keyId);
    const created = await h.instances.create(operator, { name: 'web' });
    h.clock.advance(1000);
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    await h.instances.update(operator, created.id, { tags: { team: 'a' } });
    h.clock.advance(1000);
    await h.instances.act(operator, created.id, 'stop', {});
    h.clock.advance(1000);
    await h.instances.terminate(operator, created.id);
    await h.clients.update(PLATFORM, client.clientId, { maxInstances: 5 });

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.audit.list(admin, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((a) => a.action));
      cursor = page.cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['client.update', 'instance.terminate', 'instance.stop', 'instance.update', 'instance.create', 'api-key.create', 'client.create']);

    const byOperator = await h.audit.list(PLATFORM, { clientId: client.clientId, actor: record.keyId, limit: 50 });
    expect(byOperator.items.map((a) => a.action)).toEqual(['instance.terminate', 'instance.stop', 'instance.update', 'instance.create']);
  });

  it('is tenant-scoped: a client admin sees only its own, another client named is a 404, the platform admin sees all', async () => {
    const h = businessHarness();
    const a = await h.clients.create(PLATFORM, { name: 'A' });
    const b = await h.clients.create(PLATFORM, { name: 'B' });
    await h.instances.create(PLATFORM, { clientId: a.clientId, name: 'x' });
    await h.instances.create(PLATFORM, { clientId: b.clientId, name: 'y' });

    const mine = await h.audit.list(h.keyOf(a.clientId), { limit: 50 });
    expect(new Set(mine.items.map((i) => i.clientId))).toEqual(new Set([a.clientId]));
    await expect(h.audit.list(h.keyOf(a.clientId), { clientId: b.clientId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(h.audit.list(h.keyOf(a.clientId, 'operator'), {})).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const all = await h.audit.list(PLATFORM, { limit: 50 });
    expect(new Set(all.items.map((i) => i.clientId))).toEqual(new Set([a.clientId, b.clientId]));
    const onlyB = await h.audit.list(PLATFORM, { clientId: 'B', limit: 50 });
    expect(onlyB.items.every((i) => i.clientId === b.clientId)).toBe(true);
  });

  it('filters by time: [from, to)', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const client = await h.clients.create(PLATFORM, { name: 'T' });
    h.clock.set('2026-03-10T13:00:00.000Z');
    await h.instances.create(PLATFORM, { clientId: client.clientId, name: 'late' });
    const early = await h.audit.list(PLATFORM, { clientId: client.clientId, to: '2026-03-10T13:00:00Z' });
    expect(early.items.map((a) => a.action)).toEqual(['client.create']);
    const late = await h.audit.list(PLATFORM, { clientId: client.clientId, from: '2026-03-10T13:00:00Z' });
    expect(late.items.map((a) => a.action)).toEqual(['instance.create']);
    await expect(h.audit.list(PLATFORM, { from: 'yesterday' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

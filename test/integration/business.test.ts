/**
 * The business side over DynamoDB Local: business actions land in the same transaction as
 * their change (and not at all when it is refused), the audit log reads by client and across
 * clients through its index, quotas hold under concurrent creates by the counters' condition,
 * and the revenue of a half hour equals the instance's cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { applyAction } from '../../shared/domain/instance.ts';
import type { InstanceAction } from '../../shared/domain/lifecycle.ts';
import { presentInstance } from '../../shared/http/present.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

const MINUTE = 60_000;
let table: TestTable;
let deps: AppDependencies;
let clock: ManualClock;

beforeAll(async () => {
  table = await createTestTable('business');
  clock = new ManualClock(new Date('2026-05-01T09:00:00.000Z'));
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    providers: [new FakeProvider({ name: 'LOCAL' })],
    workflows: () => new RecordingWorkflows(),
    clock,
  });
});
afterAll(async () => {
  await deleteTestTable(table);
});

async function drive(id: string, ...actions: InstanceAction[]) {
  let current = (await deps.instances.findById(id))!;
  for (const action of actions) {
    const next = applyAction(current, action, clock.now());
    await deps.instances.save(current, next, [{ type: 'instance.status-changed', fromStatus: current.status, toStatus: next.status, actor: 'system:test', message: action }]);
    current = next;
  }
  return current;
}

describe('business actions on DynamoDB', () => {
  it('writes the action with the change, by client and across clients, newest first, in pages', async () => {
    const a = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Audit A' });
    const b = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Audit B', maxInstances: 1 });
    const db = await deps.services.instances.create(PLATFORM_ADMIN, { clientId: 'audit a', type: 'database', name: 'production-db' });
    expect(db.id).toMatch(/^database-production-db-[a-z0-9]{6}$/);
    clock.advance(1000);
    await deps.services.instances.create(PLATFORM_ADMIN, { clientId: b.clientId, name: 'only' });
    // Refused by the quota: no instance, and no business action either.
    await expect(deps.services.instances.create(PLATFORM_ADMIN, { clientId: b.clientId, name: 'second' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });

    const own = await deps.services.business.audit.list(principalFor(a.clientId, 'admin'), { limit: 10 });
    expect(own.items.map((i) => i.action)).toEqual(['instance.create', 'client.create']);
    expect(own.items[0]).toMatchObject({ actor: `key:${PLATFORM_ADMIN.keyId}`, target: `instance:${db.id}`, details: { onBehalfOf: a.clientId, actorRole: 'platform-admin' } });

    const bActions = await deps.services.business.audit.list(PLATFORM_ADMIN, { clientId: b.clientId, action: 'instance' });
    expect(bActions.items).toHaveLength(1);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.services.business.audit.list(PLATFORM_ADMIN, { limit: 1, from: '2026-05-01T00:00:00Z', ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((i) => `${i.clientId === a.clientId ? 'A' : 'B'}:${i.action}`));
      cursor = page.cursor ?? undefined;
    } while (cursor);
    expect(seen.slice(0, 4)).toEqual(['B:instance.create', 'A:instance.create', 'B:client.create', 'A:client.create']);
    await expect(deps.services.business.audit.list(PLATFORM_ADMIN, { cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

describe('quotas on DynamoDB', () => {
  it('50 concurrent creates against a quota of 10 instances leave exactly 10', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Quota Ten', maxInstances: 1000, quotas: { instances: 10 } });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: `w${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const r of results) if (r.status === 'rejected') expect(r.reason.code).toMatch(/QUOTA_EXCEEDED|BUSY/);
    expect((await deps.instances.counters({ clientId: client.clientId })).live).toBe(10);
    const audit = await deps.services.business.audit.list(PLATFORM_ADMIN, { clientId: client.clientId, action: 'instance.create', limit: 100 });
    expect(audit.items).toHaveLength(10);
  });

  it('holds vCPUs and $/hour by the same conditional write, and says by how much', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Quota Cpu', quotas: { vcpus: 6, costPerHour: 1 } });
    await deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: 'a', config: { instanceType: 'local.large' } });
    await expect(deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: 'b', config: { instanceType: 'local.large' } })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('vCPUs quota by 2: 4 in use + 4 requested, limit 6'),
    });
    await expect(deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: 'c', config: { instanceType: 'local.medium' } })).resolves.toBeDefined();
  });
});

describe('money on DynamoDB', () => {
  it('0.526/h READY for exactly 30 minutes: totalCost 0.263 plus storage, revenue and statistics agree', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Half Hour', priceOverrides: { 'LOCAL:local.small': '0.526' } });
    const from = clock.now().toISOString();
    const created = await deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: 'gpu', resources: { disk: 100 }, config: { instanceType: 'local.small' } });
    await drive(created.id, 'reserve', 'launched', 'activate');
    clock.advance(30 * MINUTE);
    const done = await drive(created.id, 'terminate', 'terminated');
    const shown = presentInstance(done, clock.now());
    expect(shown.computeCost).toBe(0.263);
    expect(shown.totalCostMicros).toBeGreaterThan(263_000);
    const revenue = await deps.services.business.revenue(PLATFORM_ADMIN, client.clientId, { from, to: clock.now().toISOString() });
    expect(revenue.total).toBe(shown.totalCostMicros);
    const stats = await deps.services.instances.statistics(PLATFORM_ADMIN, { clientId: client.clientId });
    expect(stats.totalCostMicros).toBe(shown.totalCostMicros);
    const stored = (await deps.instances.findById(created.id))!;
    expect(stored.statusHistory?.map((h) => h.status)).toEqual(['PENDING', 'PROVISIONING', 'READY', 'TERMINATING', 'TERMINATED']);
  });
});

describe('budget thresholds on DynamoDB', () => {
  it('crossing 80% writes one threshold event, even when two checks race', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Thresholds', priceOverrides: { 'LOCAL:local.small': '0.526' } });
    const created = await deps.services.instances.create(PLATFORM_ADMIN, { clientId: client.clientId, name: 'w', config: { instanceType: 'local.small' } });
    await deps.services.clients.update(PLATFORM_ADMIN, client.clientId, { budget: { monthlyLimit: 1, thresholds: [80], action: 'notify' } });
    await drive(created.id, 'reserve', 'launched', 'activate');
    clock.advance(100 * MINUTE); // 0.877 of 1: past 80%
    const sweeps = deps.services.business.budgets;
    const results = await Promise.all([sweeps.checkClient(client.clientId), sweeps.checkClient(client.clientId)]);
    expect(results.flatMap((r) => r.announced)).toEqual([80]);
    expect((await sweeps.checkClient(client.clientId)).announced).toEqual([]);
    const events = await deps.services.instances.events(PLATFORM_ADMIN, created.id, { limit: 100 });
    expect(events.items.filter((e) => e.type === 'client.budget-threshold')).toHaveLength(1);
  });
});

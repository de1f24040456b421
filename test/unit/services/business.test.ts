import { describe, expect, it } from 'vitest';
import { presentInstance } from '../../../shared/http/present.ts';
import { businessHarness, PLATFORM } from './business-harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function clientWithHalfHour(h: ReturnType<typeof businessHarness>, extra: Record<string, unknown> = {}) {
  const client = await h.clients.create(PLATFORM, { name: 'Medical Co', priceOverrides: { 'LOCAL:local.small': '0.526' } });
  const created = await h.instances.create(PLATFORM, { clientId: client.clientId, name: 'gpu-worker', resources: { disk: 100 }, config: { instanceType: 'local.small' } });
  // The budget comes after: a block budget would refuse a create forecast to run all month.
  if (Object.keys(extra).length) await h.clients.update(PLATFORM, client.clientId, extra);
  return { client, created };
}

describe('revenue', () => {
  it('over the half hour an instance was READY equals its totalCost, and statistics agree', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const { client, created } = await clientWithHalfHour(h);
    const from = h.clock.now().toISOString();
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(30 * MINUTE);
    const stopped = await h.drive(created.id, 'stop', 'stopped', 'terminate', 'terminated');
    const to = h.clock.now().toISOString();

    const shown = presentInstance(stopped, h.clock.now());
    const revenue = await h.revenue(h.keyOf(client.clientId), client.clientId, { from, to });
    expect(revenue.total).toBe(shown.totalCostMicros);
    expect(revenue.compute).toBe(263_000);
    expect(revenue.storage).toBe(shown.totalCostMicros - 263_000);
    const stats = await h.instances.statistics(PLATFORM, { clientId: client.clientId });
    expect(stats.totalCostMicros).toBe(revenue.total);
  });

  it('groups add up to the total, adjacent periods add up, terminated instances count', async () => {
    const h = businessHarness('2026-03-10T23:00:00.000Z');
    const client = await h.clients.create(PLATFORM, { name: 'Grp', priceOverrides: { 'LOCAL:local.small': '0.526' } });
    const a = await h.instances.create(PLATFORM, { clientId: client.clientId, name: 'a', resources: { disk: 50 }, config: { instanceType: 'local.small' } });
    const b = await h.instances.create(PLATFORM, { clientId: client.clientId, type: 'database', name: 'b', config: { instanceType: 'local.large' } });
    await h.drive(a.id, 'reserve', 'launched', 'activate');
    await h.drive(b.id, 'reserve', 'launched', 'activate');
    h.clock.advance(2 * HOUR); // across midnight
    await h.drive(a.id, 'terminate', 'terminated');
    h.clock.advance(HOUR);
    const [from, mid, to] = ['2026-03-10T22:00:00Z', '2026-03-11T00:30:00Z', '2026-03-11T03:00:00Z'];
    const whole = await h.revenue(PLATFORM, 'Grp', { from, to, groupBy: 'day' });
    const first = await h.revenue(PLATFORM, client.clientId, { from, to: mid });
    const second = await h.revenue(PLATFORM, client.clientId, { from: mid, to });
    expect(first.total + second.total).toBe(whole.total);
    expect(whole.groups.map((g) => g.key)).toEqual(['2026-03-10', '2026-03-11']);
    expect(whole.groups.reduce((s, g) => s + g.total, 0)).toBe(whole.total);
    const byInstance = await h.revenue(PLATFORM, client.clientId, { from, to, groupBy: 'instance' });
    expect(byInstance.groups.map((g) => g.key).sort()).toEqual([a.id, b.id].sort());
    expect(byInstance.groups.find((g) => g.key === a.id)!.billableMs).toBe(2 * HOUR);
    const instanceA = (await h.repos.instances.findById(a.id))!;
    expect(byInstance.groups.find((g) => g.key === a.id)!.total).toBe(presentInstance(instanceA, h.clock.now()).totalCostMicros);
  });

  it('is tenant-scoped and validates its period', async () => {
    const h = businessHarness();
    const a = await h.clients.create(PLATFORM, { name: 'A' });
    const b = await h.clients.create(PLATFORM, { name: 'B' });
    await expect(h.revenue(h.keyOf(a.clientId), b.clientId, { from: '2026-03-01', to: '2026-03-02' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(h.revenue(h.keyOf(a.clientId), a.clientId, { from: '2026-03-02', to: '2026-03-01' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(h.revenue(h.keyOf(a.clientId), a.clientId, { from: '2026-03-01', to: '2026-03-02', groupBy: 'colour' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

describe('quotas', () => {
  it('50 concurrent creates against a quota of 10 instances leave exactly 10', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'Q', quotas: { instances: 10 }, maxInstances: 100 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => h.instances.create(PLATFORM, { clientId: client.clientId, name: `w${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refusals.every((r) => r.reason.code === 'QUOTA_EXCEEDED')).toBe(true);
    expect((await h.repos.instances.counters({ clientId: client.clientId })).live).toBe(10);
  });

  it('refuses a create over the vCPU, GPU or $/hour quota, saying by how much', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'V', quotas: { vcpus: 5, costPerHour: '0.2' } });
    await h.instances.create(PLATFORM, { clientId: client.clientId, name: 'a', config: { instanceType: 'local.large' } }); // 4 vCPU, 0.12/h
    await expect(h.instances.create(PLATFORM, { clientId: client.clientId, name: 'b', config: { instanceType: 'local.medium' } })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/vCPUs quota by 1: 4 in use \+ 2 requested, limit 5/),
    });
    await h.clients.update(PLATFORM, client.clientId, { quotas: { vcpus: 100 } });
    await expect(h.instances.create(PLATFORM, { clientId: client.clientId, name: 'c', config: { instanceType: 'local.xlarge' } })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/\$\/hour quota by \$0\.16/),
    });
  });
});

describe('budgets', () => {
  it('a client over a block budget gets BUDGET_EXCEEDED with the amount', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const { client, created } = await clientWithHalfHour(h, { budget: { monthlyLimit: '0.2', action: 'block' } });
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(30 * MINUTE);
    await h.drive(created.id, 'stop', 'stopped');
    const spent = presentInstance((await h.repos.instances.findById(created.id))!, h.clock.now()).totalCostMicros;
    const over = (spent - 200_000) / 1_000_000;
    await expect(h.instances.create(PLATFORM, { clientId: client.clientId, name: 'more' })).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringContaining(`by $${over}`),
    });
    const view = await h.budget(h.keyOf(client.clientId), client.clientId);
    expect(view.spentMicros).toBe(spent);
    expect(view.crossed).toEqual([50, 80, 100]);
  });

  it('notify never refuses; block refuses a create whose forecast passes the limit', async () => {
    const h = businessHarness('2026-03-01T00:00:00.000Z');
    const notify = await h.clients.create(PLATFORM, { name: 'N', budget: { monthlyLimit: 1, action: 'notify' } });
    await expect(h.instances.create(PLATFORM, { clientId: notify.clientId, name: 'x', config: { instanceType: 'local.xlarge' } })).resolves.toBeDefined();
    const block = await h.clients.create(PLATFORM, { name: 'B', budget: { monthlyLimit: 1, action: 'block' } });
    // 0.24/h for a month is far past $1; with a 60-minute deadline it is not.
    await expect(h.instances.create(PLATFORM, { clientId: block.clientId, name: 'y', config: { instanceType: 'local.xlarge' } })).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await expect(h.instances.create(PLATFORM, { clientId: block.clientId, name: 'z', config: { instanceType: 'local.xlarge', autoTerminateMinutes: 60 } })).resolves.toBeDefined();
  });

  it('crossing 80% writes one threshold event, once per threshold per month', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const { client, created } = await clientWithHalfHour(h, { budget: { monthlyLimit: '1', thresholds: [50, 80, 100], action: 'notify' } });
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(60 * MINUTE); // ~0.53: past 50%
    expect((await h.budgets.checkClient(client.clientId)).announced).toEqual([50]);
    h.clock.advance(35 * MINUTE); // ~0.84: past 80%
    expect((await h.budgets.checkClient(client.clientId)).announced).toEqual([80]);
    expect((await h.budgets.checkClient(client.clientId)).announced).toEqual([]);
    expect(await h.budgets.sweep()).toBe(0);
    const events = await h.repos.instances.events(created.id, { limit: 100 });
    const thresholds = events.items.filter((e) => e.type === 'client.budget-threshold');
    expect(thresholds.map((e) => e.data?.threshold)).toEqual([50, 80]);
    // A new month announces again.
    h.clock.set('2026-04-03T00:00:00.000Z');
    expect((await h.budgets.checkClient(client.clientId)).announced).toEqual([50, 80, 100]);
  });

  it('with stop, reaching 100% stops the running instances, each with an event saying why', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const { client, created } = await clientWithHalfHour(h, { budget: { monthlyLimit: '0.5', action: 'stop' } });
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(60 * MINUTE);
    const result = await h.budgets.checkClient(client.clientId);
    expect(result.stopped).toEqual([created.id]);
    const after = (await h.repos.instances.findById(created.id))!;
    expect(after.status).toBe('STOPPING');
    const events = await h.repos.instances.events(created.id, { limit: 100 });
    expect(events.items.at(-1)!.message).toMatch(/monthly budget of \$0\.5.*'stop'/);
    expect(h.workflows.calls.some((c) => c.workflow === 'stop' && c.ref.instanceId === created.id)).toBe(true);
  });
});

describe('estimate', () => {
  it('equals what the instance then accrues over the same period, and writes nothing', async () => {
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const client = await h.clients.create(PLATFORM, { name: 'E', priceOverrides: { 'LOCAL:local.small': '0.526' }, budget: { monthlyLimit: 100, action: 'block' } });
    const body = { clientId: client.clientId, name: 'job', resources: { disk: 100 }, config: { instanceType: 'local.small', autoTerminateMinutes: 45 } };
    const estimate = await h.estimate(PLATFORM, body);
    expect(await h.audit.list(PLATFORM, { clientId: client.clientId, action: 'instance' })).toMatchObject({ items: [] });
    expect(estimate.costPerHourMicros).toBe(526_000);
    expect(estimate.budget).toMatchObject({ allowed: true, spentMicros: 0 });

    const created = await h.instances.create(PLATFORM, body);
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(45 * MINUTE);
    const done = await h.drive(created.id, 'terminate', 'terminated');
    expect(presentInstance(done, h.clock.now()).totalCostMicros).toBe(estimate.untilAutoTerminate!.total);
    expect(estimate.perDay.compute).toBe(526_000 * 24);
  });

  it('is refused exactly as the create would be', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'R' });
    await expect(h.estimate(PLATFORM, { clientId: client.clientId, name: 'x', config: { diskSizeGB: 10 } })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(h.estimate(h.keyOf(client.clientId, 'viewer'), { name: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('budget checks when costs move', () => {
  it('an instance coming up announces a threshold the month already crossed', async () => {
    const { makeProvisioningSteps } = await import('../../../shared/services/provisioning.ts');
    const h = businessHarness('2026-03-10T12:00:00.000Z');
    const { client, created } = await clientWithHalfHour(h, { budget: { monthlyLimit: '1', action: 'notify' } });
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(60 * MINUTE); // 0.526 + storage: past 50%, not yet announced
    const second = await h.instances.create(PLATFORM, { clientId: client.clientId, name: 'second' });
    await h.drive(second.id, 'reserve', 'launched');
    const steps = makeProvisioningSteps(h.deps);
    await steps.activate({ clientId: client.clientId, instanceId: second.id });
    const events = await h.repos.instances.events(second.id, { limit: 100 });
    expect(events.items.filter((e) => e.type === 'client.budget-threshold').map((e) => e.data?.threshold)).toEqual([50]);
    expect((await h.repos.clients.get(client.clientId))!.budgetAlerts).toEqual({ month: '2026-03', notified: [50] });
  });
});

describe('a stop budget', () => {
  it('always watches 100%, even when its thresholds leave it out', async () => {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'S', budget: { monthlyLimit: 10, thresholds: [80], action: 'stop' } });
    expect(client.budget?.thresholds).toEqual([80, 100]);
  });
});

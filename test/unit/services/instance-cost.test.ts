import { describe, expect, it } from 'vitest';
import { storageCost } from '../../../shared/domain/billing.ts';
import { presentInstance, presentStatistics } from '../../../shared/http/present.ts';
import { businessHarness, PLATFORM } from './business-harness.ts';

const MINUTE = 60_000;

describe('an instance priced 0.526/h, READY for exactly 30 minutes', () => {
  async function halfHour(cycle?: 'hourly' | 'monthly') {
    const h = businessHarness();
    const client = await h.clients.create(PLATFORM, { name: 'Medical Co', priceOverrides: { 'LOCAL:local.small': '0.526' } });
    const created = await h.instances.create(PLATFORM, {
      clientId: client.name,
      name: 'gpu-worker',
      resources: { disk: 100 },
      config: { instanceType: 'local.small', ...(cycle ? { billingCycle: cycle } : {}) },
    });
    await h.drive(created.id, 'reserve', 'launched', 'activate');
    h.clock.advance(30 * MINUTE);
    const stopped = await h.drive(created.id, 'stop', 'stopped');
    return { h, client, created, stopped };
  }

  it('shows costPerHour 0.526 and totalCost 0.263 plus its storage, to the micro', async () => {
    const { h, stopped } = await halfHour();
    const shown = presentInstance(stopped, h.clock.now());
    const storage = storageCost({ diskGB: 100, storageGBMonthMicros: 10_000 }, 30 * MINUTE);
    expect(shown.costPerHour).toBe(0.526);
    expect(shown.computeCost).toBe(0.263);
    expect(shown.storageCostPerHour).toBe(0.00137);
    expect(shown.totalCostMicros).toBe(263_000 + storage);
    expect(shown.totalCost).toBe((263_000 + storage) / 1_000_000);
    expect(JSON.stringify(shown.computeCost)).toBe('0.263');
  });

  it('keeps accruing storage while STOPPED, and compute not', async () => {
    const { h, stopped } = await halfHour();
    h.clock.advance(730 * 60 * MINUTE);
    const later = presentInstance(stopped, h.clock.now());
    expect(later.computeCost).toBe(0.263);
    // A 730-hour month of 100 GB at 0.01/GB-month, plus the first half hour.
    expect(later.totalCostMicros - 263_000).toBe(storageCost({ diskGB: 100, storageGBMonthMicros: 10_000 }, 730 * 60 * MINUTE + 30 * MINUTE));
  });

  it('statistics agree with the instance to the micro, live and once it is terminated', async () => {
    const { h, client, created } = await halfHour();
    const live = await h.instances.statistics(PLATFORM, { clientId: client.clientId });
    const instance = (await h.repos.instances.findById(created.id))!;
    expect(live.totalCostMicros).toBe(presentInstance(instance, h.clock.now()).totalCostMicros);

    h.clock.advance(7 * MINUTE);
    const later = await h.instances.statistics(PLATFORM, { clientId: client.clientId });
    expect(later.totalCostMicros).toBe(presentInstance(instance, h.clock.now()).totalCostMicros);

    await h.instances.terminate(PLATFORM, created.id);
    const done = await h.drive(created.id, 'terminated');
    h.clock.advance(60 * MINUTE);
    const final = presentStatistics(await h.instances.statistics(PLATFORM, { clientId: client.clientId }));
    expect(final.totalCostMicros).toBe(presentInstance(done, h.clock.now()).totalCostMicros);
    expect(final.averageCostMicros).toBe(final.totalCostMicros);
    expect(final.totalCost).toBe(final.totalCostMicros / 1_000_000);
  });

  it('a monthly cycle is the same as hourly below the cap, and is shown', async () => {
    const { h, stopped } = await halfHour('monthly');
    const shown = presentInstance(stopped, h.clock.now());
    expect(shown.billingCycle).toBe('monthly');
    expect(shown.computeCost).toBe(0.263);
  });
});

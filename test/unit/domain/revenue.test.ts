import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accruedParts, applyAction, type Instance } from '../../../shared/domain/instance.ts';
import type { InstanceAction } from '../../../shared/domain/lifecycle.ts';
import { revenueOf } from '../../../shared/domain/revenue.ts';
import { makeInstance } from './fixtures.ts';

const T0 = Date.parse('2026-01-31T20:00:00Z');
const MINUTE = 60_000;

/** An instance with a status history, walked through `steps` (action, minutes after the previous). */
function lived(steps: [InstanceAction, number][], over: Partial<Instance> = {}): Instance {
  let instance = makeInstance({
    status: 'PENDING',
    costPerHourMicros: 526_000,
    resources: { disk: 100 },
    config: { diskSizeGB: 100 },
    storageGBMonthMicros: 80_000,
    billingCycle: 'hourly',
    statusHistory: [{ at: new Date(T0).toISOString(), status: 'PENDING' }],
    createdAt: new Date(T0).toISOString(),
    ...over,
  });
  let t = T0;
  for (const [action, minutes] of steps) {
    t += minutes * MINUTE;
    instance = applyAction(instance, action, new Date(t));
  }
  return instance;
}

const LIFE: [InstanceAction, number][] = [
  ['reserve', 1],
  ['launched', 2],
  ['activate', 3],
  ['stop', 90],
  ['stopped', 1],
  ['start', 200],
  ['started', 2],
  ['terminate', 300],
  ['terminated', 1],
];

describe('revenueOf', () => {
  it('over an instance whole life equals its totalCost, terminated included', () => {
    for (const cycle of ['hourly', 'monthly'] as const) {
      const instance = lived(LIFE, { billingCycle: cycle, monthlyMicros: 100_000_000 });
      const end = T0 + 10_000 * MINUTE;
      expect(revenueOf([instance], T0 - MINUTE, end).total).toBe(accruedParts(instance, end).total);
    }
  });

  it('is additive over adjacent periods and never negative (property)', () => {
    const instance = lived(LIFE, { billingCycle: 'monthly', monthlyMicros: 1_000_000 });
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 700 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 }), (a, ab, bc) => {
        const [from, mid, to] = [T0 + a * MINUTE, T0 + (a + ab) * MINUTE, T0 + (a + ab + bc) * MINUTE];
        const whole = revenueOf([instance], from, to, 'day');
        const left = revenueOf([instance], from, mid);
        const right = revenueOf([instance], mid, to);
        if (to > from) expect(left.total + right.total).toBe(whole.total);
        expect(whole.total).toBeGreaterThanOrEqual(0);
        expect(whole.groups.reduce((s, g) => s + g.total, 0)).toBe(whole.total);
      }),
    );
  });

  it('groups by provider, instance type and instance', () => {
    const a = lived(LIFE, { id: 'vps-a-000001', instanceType: 'x.small' });
    const b = lived(LIFE, { id: 'vps-b-000002', instanceType: 'x.large', costPerHourMicros: 1_000_000 });
    const r = revenueOf([a, b], T0, T0 + 1000 * MINUTE, 'instanceType');
    expect(r.groups.map((g) => g.key)).toEqual(['x.large', 'x.small']);
    // READY 90, STOPPING 1 (still billed), READY again 300.
    expect(r.groups[0]!.billableMs).toBe((90 + 1 + 300) * MINUTE);
    expect(revenueOf([a, b], T0, T0 + 1000 * MINUTE, 'provider').groups).toHaveLength(1);
  });
});

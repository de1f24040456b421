import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accruedBetween,
  accruedUntil,
  type BillingPlan,
  hourlyCompute,
  monthlyCapOf,
  type StatusAt,
  storageCost,
  storageMicrosPerHour,
  timelineOf,
} from '../../../shared/domain/billing.ts';
import { INSTANCE_STATUSES } from '../../../shared/domain/lifecycle.ts';

const T0 = Date.parse('2026-01-31T23:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const HOUR = 3_600_000;

const plan = (over: Partial<BillingPlan> = {}): BillingPlan => ({
  hourlyMicros: 526_000,
  cycle: 'hourly',
  diskGB: 0,
  storageGBMonthMicros: 0,
  ...over,
});

describe('timelineOf', () => {
  it('accrues compute only in billable statuses and storage while the machine exists, stopped included', () => {
    const history: StatusAt[] = [
      { at: at(0), status: 'PENDING' },
      { at: at(1), status: 'PROVISIONING' },
      { at: at(2), status: 'READY' },
      { at: at(32), status: 'STOPPING' },
      { at: at(33), status: 'STOPPED' },
      { at: at(60), status: 'TERMINATING' },
      { at: at(61), status: 'TERMINATED' },
    ];
    const timeline = timelineOf(history);
    expect(timeline.compute).toEqual([{ start: Date.parse(at(2)), end: Date.parse(at(33)) }]);
    expect(timeline.storage).toEqual([{ start: Date.parse(at(1)), end: Date.parse(at(61)) }]);
  });

  it('leaves the current span open', () => {
    expect(timelineOf([{ at: at(0), status: 'READY' }]).compute).toEqual([{ start: T0 }]);
  });
});

describe('hourly compute', () => {
  it('prices 30 minutes of a 0.526/h machine at exactly 0.263', () => {
    const timeline = timelineOf([
      { at: at(0), status: 'READY' },
      { at: at(30), status: 'STOPPING' },
      { at: at(30), status: 'STOPPED' },
    ]);
    expect(accruedUntil(plan(), timeline, Date.parse(at(90)))).toEqual({ compute: 263_000, storage: 0, total: 263_000 });
  });

  it('rounds once, half up, from the exact product', () => {
    expect(hourlyCompute(1, HOUR / 2)).toBe(1);
    expect(hourlyCompute(1, HOUR / 2 - 1)).toBe(0);
    expect(hourlyCompute(3, 1_200_000)).toBe(1);
  });
});

describe('monthly cycle', () => {
  it('accrues hourly but never more than the monthly price in one calendar month', () => {
    const monthly = plan({ hourlyMicros: 1_000_000, cycle: 'monthly', monthlyMicros: 500_000_000 });
    const timeline = timelineOf([{ at: '2026-03-01T00:00:00.000Z', status: 'READY' }]);
    // 100 hours into March: still below the cap.
    expect(accruedUntil(monthly, timeline, Date.parse('2026-03-05T04:00:00.000Z')).compute).toBe(100_000_000);
    // All of March is 744 hours, capped at 500; April starts its own month.
    expect(accruedUntil(monthly, timeline, Date.parse('2026-04-01T00:00:00.000Z')).compute).toBe(500_000_000);
    expect(accruedUntil(monthly, timeline, Date.parse('2026-04-01T10:00:00.000Z')).compute).toBe(510_000_000);
  });

  it('defaults the cap to 730 hours of the hourly price', () => {
    expect(monthlyCapOf({ hourlyMicros: 526_000 })).toBe(383_980_000);
  });
});

describe('storage', () => {
  it('bills disk GB × the GB-month price pro rata, stopped included', () => {
    expect(storageCost({ diskGB: 100, storageGBMonthMicros: 80_000 }, 730 * HOUR)).toBe(8_000_000);
    expect(storageMicrosPerHour({ diskGB: 100, storageGBMonthMicros: 80_000 })).toBe(10_959);
  });
});

/** A status history: increasing times, statuses drawn from the lifecycle's vocabulary. */
const histories = fc
  .array(fc.record({ gapMinutes: fc.integer({ min: 0, max: 60 * 24 * 20 }), status: fc.constantFrom(...INSTANCE_STATUSES) }), { minLength: 1, maxLength: 12 })
  .map((steps) => {
    let minutes = 0;
    return steps.map((s) => ({ at: at((minutes += s.gapMinutes)), status: s.status }) as StatusAt);
  });
const plans = fc.record({
  hourlyMicros: fc.integer({ min: 0, max: 50_000_000 }),
  cycle: fc.constantFrom('hourly' as const, 'monthly' as const),
  monthlyMicros: fc.option(fc.integer({ min: 0, max: 5_000_000_000 }), { nil: undefined }),
  diskGB: fc.integer({ min: 0, max: 4_000 }),
  storageGBMonthMicros: fc.integer({ min: 0, max: 500_000 }),
});
const moments = fc.integer({ min: -60, max: 60 * 24 * 300 }).map((m) => Date.parse(at(m)));

describe('properties', () => {
  it('is additive: [a, b) + [b, c) = [a, c) to the micro-unit', () => {
    fc.assert(
      fc.property(plans, histories, moments, moments, moments, (p, history, x, y, z) => {
        const [a, b, c] = [x, y, z].sort((m, n) => m - n) as [number, number, number];
        const timeline = timelineOf(history);
        const left = accruedBetween(p, timeline, a, b);
        const right = accruedBetween(p, timeline, b, c);
        const whole = accruedBetween(p, timeline, a, c);
        expect(left.compute + right.compute).toBe(whole.compute);
        expect(left.storage + right.storage).toBe(whole.storage);
        expect(left.total + right.total).toBe(whole.total);
      }),
    );
  });

  it('is never negative', () => {
    fc.assert(
      fc.property(plans, histories, moments, moments, (p, history, x, y) => {
        const period = accruedBetween(p, timelineOf(history), Math.min(x, y), Math.max(x, y));
        expect(period.compute).toBeGreaterThanOrEqual(0);
        expect(period.storage).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("over the instance's whole life equals its total cost", () => {
    fc.assert(
      fc.property(plans, histories, (p, history) => {
        const timeline = timelineOf(history);
        const end = Date.parse(history.at(-1)!.at) + HOUR;
        expect(accruedBetween(p, timeline, Date.parse(history[0]!.at), end)).toEqual(accruedUntil(p, timeline, end));
      }),
    );
  });

  it('never accrues more in a month than the monthly cap under the monthly cycle', () => {
    fc.assert(
      fc.property(plans, histories, (p, history) => {
        const monthly = { ...p, cycle: 'monthly' as const };
        const timeline = timelineOf(history);
        const start = Date.UTC(2026, 1, 1);
        const end = Date.UTC(2026, 2, 1);
        expect(accruedBetween(monthly, timeline, start, end).compute).toBeLessThanOrEqual(monthlyCapOf(monthly));
      }),
    );
  });
});

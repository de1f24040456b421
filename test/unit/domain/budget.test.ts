import { describe, expect, it } from 'vitest';
import {
  type Budget,
  budgetDecision,
  crossedThresholds,
  forecastOf,
  monthBounds,
  quotaExcess,
  quotaExceededError,
  shouldStopInstances,
  thresholdsToAnnounce,
} from '../../../shared/domain/budget.ts';

const budget = (over: Partial<Budget> = {}): Budget => ({ monthlyLimitMicros: 100_000_000, thresholds: [50, 80, 100], action: 'block', ...over });
const MARCH_10 = Date.parse('2026-03-10T12:00:00Z');

describe('thresholds', () => {
  it.each([
    [0, []],
    [49_999_999, []],
    [50_000_000, [50]],
    [80_000_000, [50, 80]],
    [100_000_000, [50, 80, 100]],
    [250_000_000, [50, 80, 100]],
  ])('spent %i micros of 100 crosses %j', (spent, crossed) => {
    expect(crossedThresholds(budget(), spent)).toEqual(crossed);
  });

  it.each([
    ['none announced yet', undefined, 85_000_000, [50, 80]],
    ['50 announced this month', { month: '2026-03', notified: [50] }, 85_000_000, [80]],
    ['both announced this month', { month: '2026-03', notified: [50, 80] }, 85_000_000, []],
    ['announced last month only', { month: '2026-02', notified: [50, 80, 100] }, 85_000_000, [50, 80]],
  ])('announces once per threshold per month: %s', (_, alerts, spent, due) => {
    expect(thresholdsToAnnounce(budget(), spent, alerts, MARCH_10)).toEqual(due);
  });
});

describe('budgetDecision', () => {
  it.each([
    ['notify never refuses', budget({ action: 'notify' }), 500_000_000, 900_000_000, { allowed: true }],
    ['block, under', budget(), 10_000_000, 90_000_000, { allowed: true }],
    ['block, spent over', budget(), 120_000_000, 130_000_000, { allowed: false, reason: 'spent', overMicros: 20_000_000 }],
    ['block, forecast over', budget(), 60_000_000, 100_000_001, { allowed: false, reason: 'forecast', overMicros: 1 }],
    ['stop refuses like block', budget({ action: 'stop' }), 100_000_001, 100_000_001, { allowed: false, reason: 'spent', overMicros: 1 }],
    ['no budget', undefined, 1e12, 1e12, { allowed: true }],
  ])('%s', (_, b, spent, forecast, decision) => {
    expect(budgetDecision(b, spent, forecast)).toEqual(decision);
  });

  it('stop stops instances from 100% only', () => {
    expect(shouldStopInstances(budget({ action: 'stop' }), 99_999_999)).toBe(false);
    expect(shouldStopInstances(budget({ action: 'stop' }), 100_000_000)).toBe(true);
    expect(shouldStopInstances(budget({ action: 'block' }), 200_000_000)).toBe(false);
  });
});

describe('forecast', () => {
  it('adds what accrues now until the end of the calendar month (UTC)', () => {
    const [start, end] = monthBounds(MARCH_10);
    expect(new Date(start).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(new Date(end).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    const hoursLeft = (end - MARCH_10) / 3_600_000;
    expect(forecastOf(5_000_000, 1_000_000, MARCH_10)).toBe(5_000_000 + hoursLeft * 1_000_000);
  });
});

describe('quotas', () => {
  const used = { instances: 3, vcpus: 8, gpus: 1, costPerHourMicros: 900_000 };
  it.each([
    ['all hold', { instances: 4, vcpus: 12, gpus: 2, costPerHourMicros: 1_500_000 }, null],
    ['instances', { instances: 3 }, { quota: 'instances', over: 1 }],
    ['vcpus', { vcpus: 10 }, { quota: 'vcpus', over: 2 }],
    ['gpus', { gpus: 1 }, { quota: 'gpus', over: 1 }],
    ['$/hour', { costPerHourMicros: 1_000_000 }, { quota: 'costPerHourMicros', over: 426_000 }],
    ['no quotas', {}, null],
  ])('%s', (_, quotas, excess) => {
    const result = quotaExcess(quotas, used, { instances: 1, vcpus: 4, gpus: 1, costPerHourMicros: 526_000 });
    if (excess === null) expect(result).toBeNull();
    else expect(result).toMatchObject(excess);
  });

  it('words a refusal by how much, in dollars for $/hour', () => {
    const error = quotaExceededError(
      { maxLive: 10, maxCostPerHourMicros: 1_000_000, clientName: 'Acme' },
      { live: 2, liveVcpus: 0, liveGpus: 0, liveCostPerHourMicros: 900_000 },
      { clientId: 'c', costPerHourMicros: 526_000 },
    );
    expect(error?.code).toBe('QUOTA_EXCEEDED');
    expect(error?.message).toBe("Client 'Acme' would pass its $/hour quota by $0.426: $0.9 in use + $0.526 requested, limit $1; terminate instances or raise the quota");
  });
});

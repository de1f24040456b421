import { accruedBetween, overlapMs, timelineOf } from './billing.ts';
import { billingPlanOf, type Instance } from './instance.ts';
import type { Micros } from './money.ts';

export type RevenueGroupBy = 'provider' | 'instanceType' | 'instance' | 'day';

export interface RevenueGroup {
  key: string;
  compute: Micros;
  storage: Micros;
  total: Micros;
  /** Billable (compute) milliseconds within the period. */
  billableMs: number;
}

export interface Revenue {
  from: number;
  to: number;
  compute: Micros;
  storage: Micros;
  total: Micros;
  groups: RevenueGroup[];
}

const DAY_MS = 86_400_000;

/**
 * What a client's instances earned within [from, to), exact to the micro: each instance's
 * billable intervals (its status history) intersected with the period, priced by billing.ts.
 * Terminated instances count like any other. Because every figure is a difference of one
 * cumulative function, groups add up to the total and adjacent periods add up to their union.
 * Instances written before status histories existed have none and earn nothing here.
 */
export function revenueOf(instances: readonly Instance[], from: number, to: number, groupBy?: RevenueGroupBy): Revenue {
  const groups = new Map<string, RevenueGroup>();
  const revenue: Revenue = { from, to, compute: 0, storage: 0, total: 0, groups: [] };
  const add = (key: string, part: { compute: Micros; storage: Micros; total: Micros }, billableMs: number) => {
    const group = groups.get(key) ?? { key, compute: 0, storage: 0, total: 0, billableMs: 0 };
    group.compute += part.compute;
    group.storage += part.storage;
    group.total += part.total;
    group.billableMs += billableMs;
    groups.set(key, group);
  };
  for (const instance of instances) {
    if (!instance.statusHistory || Date.parse(instance.createdAt) >= to) continue;
    const plan = billingPlanOf(instance);
    const timeline = timelineOf(instance.statusHistory);
    const part = accruedBetween(plan, timeline, from, to);
    revenue.compute += part.compute;
    revenue.storage += part.storage;
    revenue.total += part.total;
    if (!groupBy) continue;
    if (groupBy === 'day') {
      for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
        const start = Math.max(day, from);
        const end = Math.min(day + DAY_MS, to);
        const slice = accruedBetween(plan, timeline, start, end);
        if (slice.total > 0) add(new Date(day).toISOString().slice(0, 10), slice, overlapMs(timeline.compute, start, end));
      }
    } else if (part.total > 0) {
      const key = groupBy === 'provider' ? instance.provider : groupBy === 'instanceType' ? instance.instanceType : instance.id;
      add(key, part, overlapMs(timeline.compute, from, to));
    }
  }
  revenue.groups = [...groups.values()].sort((a, b) => (groupBy === 'day' ? a.key.localeCompare(b.key) : b.total - a.total || a.key.localeCompare(b.key)));
  return revenue;
}

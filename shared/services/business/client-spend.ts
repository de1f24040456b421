import { accrualOf, type Instance, storageCostPerHourOf } from '../../domain/instance.ts';
import { monthBounds } from '../../domain/budget.ts';
import type { Micros } from '../../domain/money.ts';
import { revenueOf } from '../../domain/revenue.ts';
import type { InstanceRepository } from '../../ports/instance-repository.ts';

/**
 * Every instance of a client, terminated ones included, read page by page from its partition
 * (a Query, never a Scan). Revenue and budgets read this: O(instances of the client) per call,
 * which a report or a create can afford; the counters stay the O(1) path for statistics.
 */
export async function allInstancesOf(instances: Pick<InstanceRepository, 'list'>, clientId: string): Promise<Instance[]> {
  const all: Instance[] = [];
  let cursor: string | undefined;
  do {
    const page = await instances.list(clientId, {}, { limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return all;
}

/** What accrues per hour for an instance as it stands now: compute while billing, storage while its machine exists. */
export function accruingPerHour(instance: Instance): Micros {
  const { compute, storage } = accrualOf(instance);
  return (compute ? instance.costPerHourMicros : 0) + (storage && instance.statusHistory ? storageCostPerHourOf(instance) : 0);
}

/** The month's spend so far (exact, from billing.ts) and what accrues per hour now. */
export function monthSpend(instances: readonly Instance[], now: number): { spentMicros: Micros; ratePerHourMicros: Micros; monthStart: number } {
  const [monthStart] = monthBounds(now);
  const spentMicros = revenueOf(instances, monthStart, now).total;
  const ratePerHourMicros = instances.reduce((sum, i) => sum + accruingPerHour(i), 0);
  return { spentMicros, ratePerHourMicros, monthStart };
}

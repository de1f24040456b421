import { HOURS_PER_BILLING_MONTH } from './billing.ts';
import { accrualOf, diskGBOf, type Instance } from './instance.ts';
import { isFinal, isUp } from './lifecycle.ts';
import type { Micros } from './money.ts';

/**
 * Statistics are counters, moved in the same transaction as every state change, so reading
 * them is one GetItem. Live cost is kept exact without touching every running instance:
 *   cost now = closedCost + Σ rate_i × (now − since_i) = closedCost + (openRate × now − openRateSince) / 1h
 * where openRate = Σ rate_i and openRateSince = Σ rate_i × since_i over instances billing now.
 * openRateSince outgrows 2^53, hence bigint (DynamoDB numbers hold 38 digits).
 *
 * Storage is kept the same way: openStorageRate = Σ diskGB × GB-month price (micros per 730 h)
 * over instances whose machine exists, openStorageSince = Σ rate × since. An instance with a
 * status history "opens" at its last history entry and its closed cost is everything accrued up
 * to that entry (billing.ts), so the closed part is exact whatever the cycle. The one
 * compromise of reading in O(1): an open period is extrapolated at the hourly price, so a
 * `monthly` instance past its cap counts at the hourly price until its next status change.
 */
export interface CounterDelta {
  totalProvisioned: number;
  /** Not yet terminated: what quotas count. */
  live: number;
  currentlyRunning: number;
  closedCostMicros: Micros;
  openRateMicrosPerHour: Micros;
  openRateSince: bigint;
  openStorageRate: number;
  openStorageSince: bigint;
  /** vCPUs, GPUs and $/hour held by live instances: what quotas count. */
  liveVcpus: number;
  liveGpus: number;
  liveCostPerHourMicros: Micros;
  finishedCount: number;
  finishedDurationMs: number;
  finishedCostMicros: Micros;
  /** Provisioned counts per provider and per instance kind. */
  byProvider: Record<string, number>;
  byType: Record<string, number>;
}

export type Counters = CounterDelta;

/** The counters that are plain numbers (summed with ADD), and those that need 38 digits. */
export const SCALAR_COUNTERS = [
  'totalProvisioned',
  'live',
  'currentlyRunning',
  'closedCostMicros',
  'openRateMicrosPerHour',
  'openStorageRate',
  'liveVcpus',
  'liveGpus',
  'liveCostPerHourMicros',
  'finishedCount',
  'finishedDurationMs',
  'finishedCostMicros',
] as const satisfies readonly (keyof CounterDelta)[];
export const BIG_COUNTERS = ['openRateSince', 'openStorageSince'] as const satisfies readonly (keyof CounterDelta)[];

export const emptyCounters = (): Counters => ({
  totalProvisioned: 0,
  live: 0,
  currentlyRunning: 0,
  closedCostMicros: 0,
  openRateMicrosPerHour: 0,
  openRateSince: 0n,
  openStorageRate: 0,
  openStorageSince: 0n,
  liveVcpus: 0,
  liveGpus: 0,
  liveCostPerHourMicros: 0,
  finishedCount: 0,
  finishedDurationMs: 0,
  finishedCostMicros: 0,
  byProvider: {},
  byType: {},
});

/** The open periods of an instance: rates and since when (epoch ms). */
function openOf(i: Instance): { computeRate: number; computeSince: number; storageRate: number; storageSince: number } {
  const { compute, storage } = accrualOf(i);
  if (!i.statusHistory) {
    return { computeRate: compute ? i.costPerHourMicros : 0, computeSince: compute ? Date.parse(i.billableSince!) : 0, storageRate: 0, storageSince: 0 };
  }
  const since = Date.parse(i.statusHistory.at(-1)?.at ?? i.createdAt);
  const storageRate = storage ? diskGBOf(i) * (i.storageGBMonthMicros ?? 0) : 0;
  return { computeRate: compute ? i.costPerHourMicros : 0, computeSince: since, storageRate, storageSince: since };
}

/** The counter movement for one write: `before` is null when the instance is created. */
export function counterDelta(before: Instance | null, after: Instance): CounterDelta {
  const d = emptyCounters();
  if (!before) {
    d.totalProvisioned = 1;
    d.byProvider[after.provider] = 1;
    d.byType[after.type] = 1;
  }
  const wasLive = before !== null && !isFinal(before.status);
  d.live = Number(!isFinal(after.status)) - Number(wasLive);
  d.currentlyRunning = Number(isUp(after.status)) - Number(before !== null && isUp(before.status));
  const liveChange = d.live;
  if (liveChange !== 0) {
    d.liveVcpus = liveChange * (after.vcpus ?? 0);
    d.liveGpus = liveChange * (after.gpus ?? 0);
    d.liveCostPerHourMicros = liveChange * after.costPerHourMicros;
  }

  // accruedCostMicros only moves when a period closes (legacy) or the history grows: exact.
  d.closedCostMicros = after.accruedCostMicros - (before?.accruedCostMicros ?? 0);
  if (before) {
    const was = openOf(before);
    d.openRateMicrosPerHour -= was.computeRate;
    d.openRateSince -= BigInt(was.computeRate) * BigInt(was.computeSince);
    d.openStorageRate -= was.storageRate;
    d.openStorageSince -= BigInt(was.storageRate) * BigInt(was.storageSince);
  }
  const is = openOf(after);
  d.openRateMicrosPerHour += is.computeRate;
  d.openRateSince += BigInt(is.computeRate) * BigInt(is.computeSince);
  d.openStorageRate += is.storageRate;
  d.openStorageSince += BigInt(is.storageRate) * BigInt(is.storageSince);
  if (isFinal(after.status) && !(before && isFinal(before.status))) {
    d.finishedCount = 1;
    d.finishedDurationMs = Date.parse(after.terminatedAt ?? after.updatedAt) - Date.parse(after.createdAt);
    d.finishedCostMicros = after.accruedCostMicros;
  }
  return d;
}

export interface Statistics {
  totalProvisioned: number;
  currentlyRunning: number;
  live: number;
  totalCostMicros: Micros;
  finishedCount: number;
  averageDurationMs: number;
  averageCostMicros: Micros;
  providerBreakdown: Record<string, number>;
  instanceTypeBreakdown: Record<string, number>;
}

/** Read counters as statistics at `now`; averages are over finished (terminated) instances. */
export function statisticsAt(c: Counters, now: Date): Statistics {
  const openCost = BigInt(c.openRateMicrosPerHour) * BigInt(now.getTime()) - c.openRateSince;
  const openCostMicros = openCost > 0n ? Number((openCost + 1_800_000n) / 3_600_000n) : 0;
  const storageDivisor = BigInt(HOURS_PER_BILLING_MONTH) * 3_600_000n;
  const openStorage = BigInt(c.openStorageRate) * BigInt(now.getTime()) - c.openStorageSince;
  const openStorageMicros = openStorage > 0n ? Number((openStorage + storageDivisor / 2n) / storageDivisor) : 0;
  return {
    totalProvisioned: c.totalProvisioned,
    currentlyRunning: c.currentlyRunning,
    live: c.live,
    totalCostMicros: c.closedCostMicros + openCostMicros + openStorageMicros,
    finishedCount: c.finishedCount,
    averageDurationMs: c.finishedCount ? Math.round(c.finishedDurationMs / c.finishedCount) : 0,
    averageCostMicros: c.finishedCount ? Math.round(c.finishedCostMicros / c.finishedCount) : 0,
    providerBreakdown: pruneZero(c.byProvider),
    instanceTypeBreakdown: pruneZero(c.byType),
  };
}

const pruneZero = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== 0));

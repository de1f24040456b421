import type { Instance } from './instance.ts';
import { isBillable, isFinal, isUp } from './lifecycle.ts';
import type { Micros } from './money.ts';

/**
 * Statistics are counters, moved in the same transaction as every state change, so reading
 * them is one GetItem. Live cost is kept exact without touching every running instance:
 *   cost now = closedCost + Σ rate_i × (now − since_i) = closedCost + (openRate × now − openRateSince) / 1h
 * where openRate = Σ rate_i and openRateSince = Σ rate_i × since_i over instances billing now.
 * openRateSince outgrows 2^53, hence bigint (DynamoDB numbers hold 38 digits).
 */
export interface CounterDelta {
  totalProvisioned: number;
  /** Not yet terminated: what quotas count. */
  live: number;
  currentlyRunning: number;
  closedCostMicros: Micros;
  openRateMicrosPerHour: Micros;
  openRateSince: bigint;
  finishedCount: number;
  finishedDurationMs: number;
  finishedCostMicros: Micros;
  /** Provisioned counts per provider and per instance kind. */
  byProvider: Record<string, number>;
  byType: Record<string, number>;
}

export type Counters = CounterDelta;

export const emptyCounters = (): Counters => ({
  totalProvisioned: 0,
  live: 0,
  currentlyRunning: 0,
  closedCostMicros: 0,
  openRateMicrosPerHour: 0,
  openRateSince: 0n,
  finishedCount: 0,
  finishedDurationMs: 0,
  finishedCostMicros: 0,
  byProvider: {},
  byType: {},
});

const billingOpen = (i: Instance) => isBillable(i.status) && i.billableSince !== undefined;

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

  const wasOpen = before !== null && billingOpen(before);
  const isOpen = billingOpen(after);
  if (wasOpen && !isOpen) {
    d.closedCostMicros = after.accruedCostMicros - before!.accruedCostMicros;
  }
  if (wasOpen) {
    d.openRateMicrosPerHour -= before!.costPerHourMicros;
    d.openRateSince -= BigInt(before!.costPerHourMicros) * BigInt(Date.parse(before!.billableSince!));
  }
  if (isOpen) {
    d.openRateMicrosPerHour += after.costPerHourMicros;
    d.openRateSince += BigInt(after.costPerHourMicros) * BigInt(Date.parse(after.billableSince!));
  }
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
  return {
    totalProvisioned: c.totalProvisioned,
    currentlyRunning: c.currentlyRunning,
    live: c.live,
    totalCostMicros: c.closedCostMicros + openCostMicros,
    finishedCount: c.finishedCount,
    averageDurationMs: c.finishedCount ? Math.round(c.finishedDurationMs / c.finishedCount) : 0,
    averageCostMicros: c.finishedCount ? Math.round(c.finishedCostMicros / c.finishedCount) : 0,
    providerBreakdown: pruneZero(c.byProvider),
    instanceTypeBreakdown: pruneZero(c.byType),
  };
}

const pruneZero = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== 0));

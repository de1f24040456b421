import { BILLABLE_STATUSES, INSTANCE_STATUSES, type InstanceStatus } from './lifecycle.ts';
import type { Micros } from './money.ts';

/**
 * What an instance costs over time, as pure functions of its status history and its prices.
 *
 * Every figure is a difference of one cumulative function: `cost(to) − cost(from)`, where
 * `cost(t)` rounds once, from exact integer arithmetic (BigInt), the money accrued since the
 * instance was created up to `t`. So revenue over [a, b) plus [b, c) is revenue over [a, c) to the
 * micro-unit, no figure is ever negative, and the cost over an instance's whole life is exactly
 * its total cost — the invariants the revenue report and the estimate rely on.
 */

export const BILLING_CYCLES = ['hourly', 'monthly'] as const;
export type BillingCycle = (typeof BILLING_CYCLES)[number];

/** The hours in the month a monthly price covers (AWS, Azure and OpenStack clouds bill 730). */
export const HOURS_PER_BILLING_MONTH = 730;

const MS_PER_HOUR = 3_600_000n;

/**
 * Statuses in which the machine — and so its disk — exists at the provider: all but before it
 * is launched, after it is gone, and ERROR (a failed launch or termination releases the machine).
 */
export const STORAGE_STATUSES: readonly InstanceStatus[] = INSTANCE_STATUSES.filter((s) => !['PENDING', 'ERROR', 'TERMINATED'].includes(s));

export interface BillingPlan {
  /** The compute price per hour, in micros. */
  hourlyMicros: Micros;
  cycle: BillingCycle;
  /** The monthly cap of the `monthly` cycle; 730 × hourly when the catalog names none. */
  monthlyMicros?: Micros;
  /** Disk size, billed while the machine exists, stopped included. */
  diskGB: number;
  /** The provider's storage price per GB-month, in micros. */
  storageGBMonthMicros: Micros;
}

/** A status an instance entered at a moment: its created status, then every change. */
export interface StatusAt {
  at: string;
  status: InstanceStatus;
}

/** A half-open span of time [start, end) in epoch milliseconds; `end` absent while it lasts. */
export interface Span {
  start: number;
  end?: number;
}

export interface Timeline {
  /** Spans in billable statuses: compute accrues. */
  compute: Span[];
  /** Spans while the machine exists: storage accrues. */
  storage: Span[];
}

/** The spans of a status history (ordered by time) in which compute and storage accrue. */
export function timelineOf(history: readonly StatusAt[]): Timeline {
  return {
    compute: spansWhere(history, (s) => BILLABLE_STATUSES.includes(s)),
    storage: spansWhere(history, (s) => STORAGE_STATUSES.includes(s)),
  };
}

function spansWhere(history: readonly StatusAt[], accrues: (status: InstanceStatus) => boolean): Span[] {
  const spans: Span[] = [];
  let open: number | undefined;
  for (const entry of history) {
    const at = Date.parse(entry.at);
    if (accrues(entry.status)) open ??= at;
    else if (open !== undefined) {
      if (at > open) spans.push({ start: open, end: at });
      open = undefined;
    }
  }
  if (open !== undefined) spans.push({ start: open });
  return spans;
}

/** Milliseconds of `spans` that fall within [from, to). */
export function overlapMs(spans: readonly Span[], from: number, to: number): number {
  let total = 0;
  for (const span of spans) {
    const start = Math.max(span.start, from);
    const end = Math.min(span.end ?? Number.POSITIVE_INFINITY, to);
    if (end > start) total += end - start;
  }
  return total;
}

export interface Accrued {
  compute: Micros;
  storage: Micros;
  total: Micros;
}

/** Everything accrued from the beginning of time up to `t` (epoch ms). Monotone in `t`. */
export function accruedUntil(plan: BillingPlan, timeline: Timeline, t: number): Accrued {
  const compute = plan.cycle === 'monthly' ? monthlyComputeUntil(plan, timeline.compute, t) : hourlyCompute(plan.hourlyMicros, overlapMs(timeline.compute, 0, t));
  const storage = storageCost(plan, overlapMs(timeline.storage, 0, t));
  return { compute, storage, total: compute + storage };
}

/** What accrued within [from, to): revenue for a period, exact and additive. */
export function accruedBetween(plan: BillingPlan, timeline: Timeline, from: number, to: number): Accrued {
  if (to <= from) return { compute: 0, storage: 0, total: 0 };
  const end = accruedUntil(plan, timeline, to);
  const start = accruedUntil(plan, timeline, from);
  return { compute: end.compute - start.compute, storage: end.storage - start.storage, total: end.total - start.total };
}

/** Hourly price × billable time, rounded half up to a micro once. */
export function hourlyCompute(hourlyMicros: Micros, billableMs: number): Micros {
  if (billableMs <= 0 || hourlyMicros <= 0) return 0;
  return roundedDivide(BigInt(hourlyMicros) * BigInt(Math.floor(billableMs)), MS_PER_HOUR);
}

/** The cap of one calendar month of the `monthly` cycle. */
export const monthlyCapOf = (plan: Pick<BillingPlan, 'hourlyMicros' | 'monthlyMicros'>): Micros =>
  plan.monthlyMicros ?? plan.hourlyMicros * HOURS_PER_BILLING_MONTH;

/**
 * The `monthly` cycle accrues at the hourly price but never more than the monthly price within
 * one calendar month (UTC): each month's figure is min(cap, hourly accrual in that month).
 */
function monthlyComputeUntil(plan: BillingPlan, spans: readonly Span[], t: number): Micros {
  const cap = monthlyCapOf(plan);
  let total = 0;
  for (const [monthStart, monthEnd] of monthsCovered(spans, t)) {
    total += Math.min(cap, hourlyCompute(plan.hourlyMicros, overlapMs(spans, monthStart, Math.min(monthEnd, t))));
  }
  return total;
}

/** The calendar months (UTC, [start, end) in epoch ms) from the first span's start up to `t`. */
function monthsCovered(spans: readonly Span[], t: number): [number, number][] {
  if (!spans.length) return [];
  const first = Math.min(...spans.map((s) => s.start));
  const months: [number, number][] = [];
  const cursor = new Date(first);
  let start = Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth(), 1);
  while (start < t) {
    const d = new Date(start);
    const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    months.push([start, end]);
    start = end;
  }
  return months;
}

/** Storage: disk GB × GB-month price, pro rata over 730-hour months, rounded once. */
export function storageCost(plan: Pick<BillingPlan, 'diskGB' | 'storageGBMonthMicros'>, existingMs: number): Micros {
  if (existingMs <= 0 || plan.diskGB <= 0 || plan.storageGBMonthMicros <= 0) return 0;
  const numerator = BigInt(Math.round(plan.diskGB)) * BigInt(plan.storageGBMonthMicros) * BigInt(Math.floor(existingMs));
  return roundedDivide(numerator, BigInt(HOURS_PER_BILLING_MONTH) * MS_PER_HOUR);
}

/** What the disk costs per hour, in micros (shown as `storageCostPerHour`; may have a fraction of a micro, so rounded). */
export const storageMicrosPerHour = (plan: Pick<BillingPlan, 'diskGB' | 'storageGBMonthMicros'>): Micros =>
  storageCost(plan, Number(MS_PER_HOUR));

function roundedDivide(numerator: bigint, denominator: bigint): number {
  return Number((numerator + denominator / 2n) / denominator);
}

/**
 * Storage prices per GB-month by provider: a versioned table like the compute price table. Each
 * instance records the version its prices came from, so an old bill stays explainable after a
 * change. OPENSTACK and LOCAL are list prices of this deployment, not of a public cloud.
 */
export const STORAGE_PRICE_TABLE_VERSION = '2026-12-01';
export const STORAGE_GB_MONTH_MICROS: Readonly<Record<string, Micros>> = {
  // EBS gp3, us-east-1.
  AWS: 80_000,
  // Azure managed SSD, per GB of provisioned capacity: this deployment's list price, to check against Azure's sheet.
  AZURE: 121_000,
  OPENSTACK: 50_000,
  LOCAL: 10_000,
  // An endpoint Hangar only watches has no disk of Hangar's.
  EXTERNAL: 0,
};

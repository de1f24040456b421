import { QuotaExceededError } from './errors.ts';
import type { Micros } from './money.ts';

/**
 * Budgets and quotas as pure decisions (DESIGN, Business). A client's budget is a monthly limit
 * with alert thresholds (percent) and an action; its quotas bound what live instances may hold.
 */
export const BUDGET_ACTIONS = ['notify', 'block', 'stop'] as const;
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];

export interface Budget {
  monthlyLimitMicros: Micros;
  thresholds: number[];
  action: BudgetAction;
}

export interface Quotas {
  instances?: number;
  vcpus?: number;
  gpus?: number;
  costPerHourMicros?: Micros;
}

/** Thresholds already announced, for the month they belong to (`YYYY-MM`, UTC). */
export interface BudgetAlerts {
  month: string;
  notified: number[];
}

export const DEFAULT_THRESHOLDS = [50, 80, 100];

export const monthOf = (t: number): string => new Date(t).toISOString().slice(0, 7);

/** [start, end) of the calendar month (UTC) holding `t`. */
export function monthBounds(t: number): [number, number] {
  const d = new Date(t);
  return [Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)];
}

/** Spend at month end if what accrues now keeps accruing: spent + rate × hours left. */
export function forecastOf(spentMicros: Micros, ratePerHourMicros: Micros, now: number): Micros {
  const [, end] = monthBounds(now);
  return spentMicros + Math.round((ratePerHourMicros * Math.max(0, end - now)) / 3_600_000);
}

/** The thresholds (percent) that `spent` has reached. */
export const crossedThresholds = (budget: Pick<Budget, 'monthlyLimitMicros' | 'thresholds'>, spentMicros: Micros): number[] =>
  budget.thresholds.filter((t) => spentMicros * 100 >= budget.monthlyLimitMicros * t).sort((a, b) => a - b);

/**
 * The thresholds to announce now: crossed this month and not yet announced this month. A new
 * month starts with none announced, so each threshold is announced at most once a month.
 */
export function thresholdsToAnnounce(budget: Budget, spentMicros: Micros, alerts: BudgetAlerts | undefined, now: number): number[] {
  const month = monthOf(now);
  const already = alerts?.month === month ? alerts.notified : [];
  return crossedThresholds(budget, spentMicros).filter((t) => !already.includes(t));
}

/** With `stop`, reaching 100% stops the client's running instances. */
export const shouldStopInstances = (budget: Budget, spentMicros: Micros): boolean =>
  budget.action === 'stop' && spentMicros >= budget.monthlyLimitMicros;

/**
 * Whether a create may start: with `block` or `stop`, not while the month's spend, or its
 * forecast once the new instance runs, is over the limit. `over` is by how much (micros).
 */
export function budgetDecision(
  budget: Budget | undefined,
  spentMicros: Micros,
  forecastAfterMicros: Micros,
): { allowed: true } | { allowed: false; reason: 'spent' | 'forecast'; overMicros: Micros } {
  if (!budget || budget.action === 'notify') return { allowed: true };
  if (spentMicros > budget.monthlyLimitMicros) return { allowed: false, reason: 'spent', overMicros: spentMicros - budget.monthlyLimitMicros };
  if (forecastAfterMicros > budget.monthlyLimitMicros) return { allowed: false, reason: 'forecast', overMicros: forecastAfterMicros - budget.monthlyLimitMicros };
  return { allowed: true };
}

export interface QuotaUsage {
  instances: number;
  vcpus: number;
  gpus: number;
  costPerHourMicros: Micros;
}

export type QuotaName = keyof QuotaUsage;

/**
 * The first quota that `adding` would pass, given what live instances already hold, with the
 * limit and by how much; null when every quota holds. Both repositories word their refusals
 * with it, so a refusal says the same thing whichever store decided it.
 */
export function quotaExcess(quotas: Quotas, used: QuotaUsage, adding: QuotaUsage): { quota: QuotaName; limit: number; used: number; adding: number; over: number } | null {
  const limits: [QuotaName, number | undefined][] = [
    ['instances', quotas.instances],
    ['vcpus', quotas.vcpus],
    ['gpus', quotas.gpus],
    ['costPerHourMicros', quotas.costPerHourMicros],
  ];
  for (const [quota, limit] of limits) {
    if (limit === undefined || adding[quota] === 0) continue;
    if (used[quota] + adding[quota] > limit) return { quota, limit, used: used[quota], adding: adding[quota], over: used[quota] + adding[quota] - limit };
  }
  return null;
}

/** What one more live instance adds to each quota. */
export const quotaUsageOf = (instance: { vcpus?: number; gpus?: number; costPerHourMicros: Micros }): QuotaUsage => ({
  instances: 1,
  vcpus: instance.vcpus ?? 0,
  gpus: instance.gpus ?? 0,
  costPerHourMicros: instance.costPerHourMicros,
});

/** What the client's live instances hold, from its counters. */
export const quotaUsageFromCounters = (c: { live: number; liveVcpus: number; liveGpus: number; liveCostPerHourMicros: Micros }): QuotaUsage => ({
  instances: c.live,
  vcpus: c.liveVcpus,
  gpus: c.liveGpus,
  costPerHourMicros: c.liveCostPerHourMicros,
});

const QUOTA_WORDS: Record<QuotaName, { noun: string; field: string; show: (n: number) => string }> = {
  instances: { noun: 'instances', field: 'quotas.instances', show: String },
  vcpus: { noun: 'vCPUs', field: 'quotas.vcpus', show: String },
  gpus: { noun: 'GPUs', field: 'quotas.gpus', show: String },
  costPerHourMicros: { noun: '$/hour', field: 'quotas.costPerHour', show: (n) => `$${n / 1_000_000}` },
};

/** "Client 'Acme' would pass its vCPUs quota by 2: 8 in use + 4 requested, limit 10". */
export function quotaRefusal(client: string, excess: NonNullable<ReturnType<typeof quotaExcess>>): { message: string; field: string } {
  const w = QUOTA_WORDS[excess.quota];
  return {
    field: w.field,
    message: `Client '${client}' would pass its ${w.noun} quota by ${w.show(excess.over)}: ${w.show(excess.used)} in use + ${w.show(excess.adding)} requested, limit ${w.show(excess.limit)}; terminate instances or raise the quota`,
  };
}

/**
 * The refusal for a create over a quota, or null: what both repositories throw when their
 * atomic check (the counters' condition, the in-memory check) refuses, worded from the counters
 * as they stood. The live-instance count keeps its long-standing wording.
 */
export function quotaExceededError(
  quota: { maxLive: number; maxVcpus?: number; maxGpus?: number; maxCostPerHourMicros?: number; clientName?: string },
  counters: { live: number; liveVcpus: number; liveGpus: number; liveCostPerHourMicros: Micros },
  instance: { clientId: string; vcpus?: number; gpus?: number; costPerHourMicros: Micros },
): QuotaExceededError | null {
  const client = quota.clientName ?? instance.clientId;
  const excess = quotaExcess(
    { instances: quota.maxLive, vcpus: quota.maxVcpus, gpus: quota.maxGpus, costPerHourMicros: quota.maxCostPerHourMicros },
    quotaUsageFromCounters(counters),
    quotaUsageOf(instance),
  );
  if (!excess) return null;
  if (excess.quota === 'instances') return QuotaExceededError.liveInstances(client, excess.used, excess.limit);
  const { message, field } = quotaRefusal(client, excess);
  return new QuotaExceededError(message, [{ path: field, message: `over by ${excess.over}` }], { used: excess.used, limit: excess.limit });
}

import { reconcilePolicyOf, type ApiKeyRecord, type Client } from '../domain/client.ts';
import { accruedParts, type Instance, storageCostPerHourOf } from '../domain/instance.ts';
import { microsToUnits } from '../domain/money.ts';
import type { BusinessAction } from '../domain/business-actions.ts';
import type { Revenue } from '../domain/revenue.ts';
import type { BudgetView } from '../services/business/client-budget.ts';
import type { Estimate } from '../services/business/estimate-instance.ts';
import type { Statistics } from '../domain/statistics.ts';
import { SHARED_SCOPE, type SyncJob } from '../domain/sync.ts';
import type { StoredCatalogItem } from '../ports/catalog-repository.ts';
import type { CatalogItem } from '../ports/compute-provider.ts';

/** The instance as clients read it; money as display decimals plus the exact micros. */
export function presentInstance(instance: Instance, now: Date) {
  const accrued = accruedParts(instance, now);
  const totalCostMicros = accrued.total;
  const storageCostPerHourMicros = storageCostPerHourOf(instance);
  return {
    id: instance.id,
    name: instance.name,
    type: instance.type,
    clientId: instance.clientId,
    userId: instance.userId,
    taskId: instance.taskId ?? null,
    purpose: instance.purpose ?? null,
    provider: instance.provider,
    instanceType: instance.instanceType,
    region: instance.region,
    status: instance.status,
    errorMessage: instance.errorMessage ?? null,
    health: instance.health ?? { status: 'UNKNOWN' },
    publicIp: instance.publicIp ?? null,
    privateIp: instance.privateIp ?? null,
    port: instance.port ?? null,
    providerInstanceId: instance.providerInstanceId ?? null,
    providerDetails: instance.providerDetails ?? {},
    resources: instance.resources,
    config: { ...instance.config, userData: instance.config.userData ? '(set)' : undefined },
    tags: instance.tags,
    labels: instance.labels,
    costPerHour: microsToUnits(instance.costPerHourMicros),
    costPerHourMicros: instance.costPerHourMicros,
    storageCostPerHour: microsToUnits(storageCostPerHourMicros),
    storageCostPerHourMicros,
    billingCycle: instance.billingCycle ?? 'hourly',
    // compute + storage, from billing.ts over the instance's status history, live at `now`.
    totalCost: microsToUnits(totalCostMicros),
    totalCostMicros,
    computeCost: microsToUnits(accrued.compute),
    storageCost: microsToUnits(accrued.storage),
    priceVersion: instance.priceVersion,
    autoTerminateMinutes: instance.autoTerminateMinutes ?? null,
    autoTerminateAt: instance.autoTerminateAt ?? null,
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    terminatedAt: instance.terminatedAt ?? null,
    terminatedBy: instance.terminatedBy ?? null,
    version: instance.version,
  };
}

export function presentStatistics(stats: Statistics & { clientId: string; userId?: string }) {
  const { totalCostMicros, averageCostMicros, averageDurationMs, ...rest } = stats;
  return {
    ...rest,
    totalCost: microsToUnits(totalCostMicros),
    totalCostMicros,
    averageCost: microsToUnits(averageCostMicros),
    averageCostMicros,
    averageDuration: Math.round(averageDurationMs / 1000),
    averageDurationUnit: 'seconds',
  };
}

export function presentClient(client: Client) {
  const { nameKey: _nameKey, clientId, priceOverrides, budget, quotas, budgetAlerts: _alerts, ...rest } = client;
  return {
    id: clientId,
    ...rest,
    // Exact decimals as sent (micros / 10^6 has at most six places), not rounded to cents.
    priceOverrides: Object.fromEntries(Object.entries(priceOverrides ?? {}).map(([key, micros]) => [key, String(micros / 1_000_000)])),
    reconcilePolicy: reconcilePolicyOf(client),
    budget: budget ? { monthlyLimit: microsToUnits(budget.monthlyLimitMicros), thresholds: budget.thresholds, action: budget.action } : null,
    quotas: quotas
      ? {
          ...(quotas.instances !== undefined ? { instances: quotas.instances } : {}),
          ...(quotas.vcpus !== undefined ? { vcpus: quotas.vcpus } : {}),
          ...(quotas.gpus !== undefined ? { gpus: quotas.gpus } : {}),
          ...(quotas.costPerHourMicros !== undefined ? { costPerHour: microsToUnits(quotas.costPerHourMicros) } : {}),
        }
      : null,
  };
}

/** Never the hash; the secret only when just created. */
export function presentApiKey(record: ApiKeyRecord, secret?: string) {
  return {
    id: record.keyId,
    name: record.name,
    role: record.role,
    clientId: record.clientId,
    prefix: record.prefix,
    createdAt: record.createdAt,
    ...(secret ? { key: secret } : {}),
  };
}

/** A catalog entry: the provider's id, its price as a decimal string, and when it last changed. */
export function presentCatalogItem(item: CatalogItem | StoredCatalogItem) {
  const stored = 'fingerprint' in item ? item : undefined;
  return {
    id: item.id,
    name: item.name,
    kind: item.kind,
    region: item.region,
    // Exact: catalog prices often have sub-cent digits (0.0104), which a rounded figure would lose.
    ...(item.hourlyMicros !== undefined ? { pricePerHour: item.hourlyMicros / 1_000_000, pricePerHourMicros: item.hourlyMicros } : {}),
    attributes: item.attributes,
    ...(stored
      ? {
          firstSeenAt: stored.firstSeenAt,
          updatedAt: stored.updatedAt,
          ...(stored.deletedAt ? { deletedAt: stored.deletedAt } : {}),
        }
      : {}),
  };
}

export function presentSyncJob(job: SyncJob) {
  const { jobId, clientId, ...rest } = job;
  return {
    id: jobId,
    ...rest,
    clientId: clientId === SHARED_SCOPE ? null : clientId,
    findings: job.findings ?? [],
  };
}

/** A business action as `GET /api/audit` lists it. */
export function presentBusinessAction(action: BusinessAction) {
  const { actionId, ...rest } = action;
  return { id: actionId, ...rest };
}

/** `{revenue}`: exact decimals (and micros), hours to the millisecond. */
export function presentRevenue(revenue: Revenue & { clientId: string; groupBy?: string }) {
  return {
    clientId: revenue.clientId,
    from: new Date(revenue.from).toISOString(),
    to: new Date(revenue.to).toISOString(),
    currency: 'USD',
    total: microsToUnits(revenue.total),
    compute: microsToUnits(revenue.compute),
    storage: microsToUnits(revenue.storage),
    totalMicros: revenue.total,
    ...(revenue.groupBy ? { groupBy: revenue.groupBy } : {}),
    groups: revenue.groups.map((g) => ({
      key: g.key,
      total: microsToUnits(g.total),
      compute: microsToUnits(g.compute),
      storage: microsToUnits(g.storage),
      totalMicros: g.total,
      hours: g.billableMs / 3_600_000,
    })),
  };
}

/** `{budget}`: the month's spend against the limit. */
export function presentBudget(view: BudgetView) {
  return {
    clientId: view.clientId,
    month: view.month,
    monthlyLimit: view.budget ? microsToUnits(view.budget.monthlyLimitMicros) : null,
    spent: microsToUnits(view.spentMicros),
    forecast: microsToUnits(view.forecastMicros),
    thresholds: view.budget?.thresholds ?? [],
    crossed: view.crossed,
    action: view.budget?.action ?? null,
  };
}

/** `{estimate}`: what the planned instance costs if it runs from now. */
export function presentEstimate(estimate: Estimate) {
  return {
    costPerHour: microsToUnits(estimate.costPerHourMicros),
    storageCostPerHour: microsToUnits(estimate.storageCostPerHourMicros),
    untilAutoTerminate: estimate.untilAutoTerminate ? microsToUnits(estimate.untilAutoTerminate.total) : null,
    autoTerminateMinutes: estimate.instance.autoTerminateMinutes ?? null,
    perDay: microsToUnits(estimate.perDay.total),
    perMonth: microsToUnits(estimate.perMonth.total),
    billingCycle: estimate.billingCycle,
    instanceType: estimate.instance.instanceType,
    provider: estimate.instance.provider,
    budget: {
      monthlyLimit: estimate.budget.budget ? microsToUnits(estimate.budget.budget.monthlyLimitMicros) : null,
      spent: microsToUnits(estimate.budget.spentMicros),
      forecastAfter: microsToUnits(estimate.budget.forecastAfterMicros),
      allowed: estimate.budget.allowed,
    },
  };
}

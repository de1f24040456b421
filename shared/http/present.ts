import { reconcilePolicyOf, type ApiKeyRecord, type Client } from '../domain/client.ts';
import { accruedParts, type Instance, storageCostPerHourOf } from '../domain/instance.ts';
import { microsToUnits } from '../domain/money.ts';
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

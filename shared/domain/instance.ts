import type { ProviderName } from './catalog.ts';
import { type Accrued, accruedUntil, type BillingCycle, type BillingPlan, STORAGE_STATUSES, type StatusAt, storageMicrosPerHour, timelineOf } from './billing.ts';
import { type InstanceAction, type InstanceStatus, isBillable, isUp, nextStatus } from './lifecycle.ts';
import { costForDuration, type Micros } from './money.ts';
import type { CreateInstanceRequest } from './schemas.ts';

export interface Resources {
  cpu?: number;
  /** GiB */
  memory?: number;
  /** GB */
  disk?: number;
}

/**
 * Provider-facing settings kept from the create request: the create schema's `config` (the one
 * declaration of the shape) less what becomes a field of the instance itself.
 */
export type InstanceConfig = Omit<
  CreateInstanceRequest['config'],
  'provider' | 'instanceType' | 'region' | 'autoTerminateMinutes' | 'tags' | 'billingCycle'
>;

export interface HealthState {
  status: 'HEALTHY' | 'UNHEALTHY' | 'ERROR' | 'UNKNOWN';
  checkedAt?: string;
  error?: string;
}

export interface Instance {
  id: string;
  clientId: string;
  userId: string;
  name: string;
  /** What the client calls it: a free-form kebab word (`vps`, `database`…). */
  type: string;
  taskId?: string;
  purpose?: string;
  provider: ProviderName;
  instanceType: string;
  region: string;
  status: InstanceStatus;
  errorMessage?: string;
  resources: Resources;
  config: InstanceConfig;
  tags: Record<string, string>;
  labels: Record<string, string>;
  costPerHourMicros: Micros;
  priceVersion: string;
  /**
   * With `statusHistory`: everything accrued (compute + storage) up to the history's last entry,
   * so counters move by exact differences. Without (instances written before storage was
   * billed): the compute cost of billable periods already closed.
   */
  accruedCostMicros: Micros;
  /** `hourly` (default) or `monthly` (capped per calendar month at `monthlyMicros`). */
  billingCycle?: BillingCycle;
  /** The monthly cap of the `monthly` cycle; 730 × hourly when absent. */
  monthlyMicros?: Micros;
  /** The provider's storage price per GB-month when the instance was created (versioned table). */
  storageGBMonthMicros?: Micros;
  storagePriceVersion?: string;
  /**
   * What billing needs of the status history, compacted: an entry only when compute or storage
   * starts or stops accruing (tens of entries for a long life, not one per status). Billing
   * (billing.ts) reads the instance's cost off it at any moment; absent on legacy instances.
   */
  statusHistory?: StatusAt[];
  /** vCPUs and GPUs the instance holds, for quotas (from the price table, else resources). */
  vcpus?: number;
  gpus?: number;
  /** Start of the open billable period, if the instance is billing now. */
  billableSince?: string;
  autoTerminateMinutes?: number;
  autoTerminateAt?: string;
  providerInstanceId?: string;
  publicIp?: string;
  privateIp?: string;
  port?: number;
  /** What the provider reports that has no field of its own (LOCAL: pid, dataDir). */
  providerDetails?: Record<string, string | number>;
  health?: HealthState;
  createdAt: string;
  updatedAt: string;
  terminatedAt?: string;
  terminatedBy?: string;
  /** Why a STOPPED instance was stopped when Hangar, not a person, stopped it. */
  stopReason?: 'runtime-shutdown';
  /** When the instance last became READY (idle): what idle stop measures from. */
  idleSince?: string;
  version: number;
}

/** Cost so far (compute + storage), including the open periods up to `now`. */
export function accruedCost(instance: Instance, now: Date): Micros {
  return accruedParts(instance, now).total;
}

/** Compute, storage and total accrued up to `now`, from billing.ts over the status history. */
export function accruedParts(instance: Instance, now: Date | number): Accrued {
  const t = typeof now === 'number' ? now : now.getTime();
  if (instance.statusHistory) return accruedUntil(billingPlanOf(instance), timelineOf(instance.statusHistory), t);
  // Legacy: compute only, from the closed cost and the open billable period.
  const open = instance.billableSince ? costForDuration(instance.costPerHourMicros, t - Date.parse(instance.billableSince)) : 0;
  const compute = instance.accruedCostMicros + open;
  return { compute, storage: 0, total: compute };
}

/** Disk GB the instance is billed for while its machine exists. */
export const diskGBOf = (instance: Pick<Instance, 'config' | 'resources'>): number => instance.config.diskSizeGB ?? instance.resources.disk ?? 0;

export function billingPlanOf(instance: Instance): BillingPlan {
  return {
    hourlyMicros: instance.costPerHourMicros,
    cycle: instance.billingCycle ?? 'hourly',
    ...(instance.monthlyMicros !== undefined ? { monthlyMicros: instance.monthlyMicros } : {}),
    diskGB: diskGBOf(instance),
    storageGBMonthMicros: instance.storageGBMonthMicros ?? 0,
  };
}

/** What the disk costs per hour, shown as `storageCostPerHour`. */
export const storageCostPerHourOf = (instance: Instance): Micros => storageMicrosPerHour(billingPlanOf(instance));

/** Whether compute and storage accrue for an instance as it now stands. */
export function accrualOf(instance: Pick<Instance, 'status' | 'billableSince'>): { compute: boolean; storage: boolean } {
  return { compute: isBillable(instance.status) && instance.billableSince !== undefined, storage: STORAGE_STATUSES.includes(instance.status) };
}

/**
 * The history entry for `after` if accrual changed: its status, except a billable status whose
 * billing never opened (a kill during STARTING), recorded as STARTING so compute stays off.
 */
function historyEntry(after: Instance, at: string): StatusAt {
  const { compute } = accrualOf(after);
  return { at, status: isBillable(after.status) && !compute ? 'STARTING' : after.status };
}

/** Fields a transition may set besides status (addresses, error message, task id…). */
export type TransitionChanges = Partial<
  Omit<Instance, 'id' | 'clientId' | 'status' | 'version' | 'createdAt' | 'updatedAt' | 'accruedCostMicros' | 'billableSince' | 'statusHistory'>
>;

/**
 * Apply `action` at `at`: the next status from the transition table, billing periods opened or
 * closed, version bumped. Pure: the caller persists the result conditionally on the old version.
 */
export function applyAction(
  instance: Instance,
  action: InstanceAction,
  at: Date,
  changes: TransitionChanges = {},
): Instance {
  const status = nextStatus(instance.status, action);
  const now = at.toISOString();
  const next: Instance = { ...instance, ...changes, status, updatedAt: now, version: instance.version + 1 };

  const wasBilling = isBillable(instance.status) && instance.billableSince !== undefined;
  if (wasBilling && !isBillable(status)) {
    next.accruedCostMicros = accruedCost(instance, at);
    delete next.billableSince;
  } else if (!wasBilling && isUp(status)) {
    // Billing opens only when the machine is up; a kill during STARTING must not start it.
    next.billableSince = now;
  }
  if (instance.statusHistory) {
    const was = accrualOf(instance);
    const is = accrualOf(next);
    if (was.compute !== is.compute || was.storage !== is.storage) {
      next.statusHistory = [...instance.statusHistory, historyEntry(next, now)];
      next.accruedCostMicros = accruedParts(next, at).total;
    }
  }
  if (status !== 'ERROR' && action !== 'extend') delete next.errorMessage;
  if (status === 'TERMINATED') next.terminatedAt = now;
  if (instance.status === 'RUNNING' && status !== 'RUNNING') delete next.taskId;
  if (status !== 'STOPPED') delete next.stopReason;
  if (status !== 'READY') delete next.idleSince;
  else if (instance.status !== 'READY') next.idleSince = now;
  return next;
}

/**
 * Everything a provider needs to create one machine: the instance's own fields and its config.
 * `instanceId`, Hangar's public id, is also the idempotency token: launching twice creates one machine.
 */
export type LaunchSpec = { instanceId: string } & Pick<Instance, 'clientId' | 'name' | 'instanceType' | 'region' | 'resources' | 'tags'> &
  InstanceConfig;

/** The launch spec of a planned instance; fields it does not set are left out, not undefined. */
export function launchSpecOf(instance: Instance): LaunchSpec {
  const { id, clientId, name, instanceType, region, resources, tags, config } = instance;
  return withoutUndefined({ instanceId: id, clientId, name, instanceType, region, resources, tags, ...config });
}

/** `value` without its undefined fields, so stored and sent objects carry only what was given. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

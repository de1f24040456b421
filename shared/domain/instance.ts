import type { ProviderName } from './catalog.ts';
import { type InstanceAction, type InstanceStatus, isBillable, isUp, nextStatus } from './lifecycle.ts';
import { costForDuration, type Micros } from './money.ts';

export interface Resources {
  cpu?: number;
  /** GiB */
  memory?: number;
  /** GB */
  disk?: number;
}

/** Provider-facing settings kept from the create request. */
export interface InstanceConfig {
  image?: string;
  diskSizeGB?: number;
  accountId?: string;
  keyPair?: string;
  securityGroups?: string[];
  networks?: string[];
  userData?: string;
  endpoint?: string;
  healthPath?: string;
  idleStopMinutes?: number;
}

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
  /** Cost of billable periods already closed. */
  accruedCostMicros: Micros;
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

/** Cost so far, including the open billable period up to `now`. */
export function accruedCost(instance: Instance, now: Date): Micros {
  if (!instance.billableSince) return instance.accruedCostMicros;
  const elapsed = now.getTime() - Date.parse(instance.billableSince);
  return instance.accruedCostMicros + costForDuration(instance.costPerHourMicros, elapsed);
}

/** Fields a transition may set besides status (addresses, error message, task id…). */
export type TransitionChanges = Partial<
  Omit<Instance, 'id' | 'clientId' | 'status' | 'version' | 'createdAt' | 'updatedAt' | 'accruedCostMicros' | 'billableSince'>
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
  if (status !== 'ERROR' && action !== 'extend') delete next.errorMessage;
  if (status === 'TERMINATED') next.terminatedAt = now;
  if (instance.status === 'RUNNING' && status !== 'RUNNING') delete next.taskId;
  if (status !== 'STOPPED') delete next.stopReason;
  if (status !== 'READY') delete next.idleSince;
  else if (instance.status !== 'READY') next.idleSince = now;
  return next;
}

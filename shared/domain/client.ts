import type { Budget, BudgetAlerts, Quotas } from './budget.ts';
import type { ClientRole, Role } from './roles.ts';
import { DEFAULT_RECONCILE_POLICY, type ReconcilePolicy } from './sync.ts';

/** A tenant: a business that Hangar provisions instances for. */
export interface Client {
  clientId: string;
  name: string;
  nameKey: string;
  status: 'active' | 'suspended';
  contactEmail?: string;
  maxInstances: number;
  maxAutoTerminateMinutes: number;
  /** Negotiated hourly prices in micro-units, keyed `<PROVIDER>:<instanceType>`; win over the price table. */
  priceOverrides?: Record<string, number>;
  /** What reconciliation may do about this client's orphans and ghosts; defaults fill the gaps. */
  reconcilePolicy?: Partial<ReconcilePolicy>;
  /** A monthly limit (micros) with alert thresholds and what happens over it. */
  budget?: Budget;
  /** Bounds on what live instances hold; `instances` tightens maxInstances. */
  quotas?: Quotas;
  /** Thresholds already announced this month: each is announced once a month. */
  budgetAlerts?: BudgetAlerts;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** An API key as stored: the secret itself is never kept, only its SHA-256. */
export interface ApiKeyRecord {
  keyHash: string;
  keyId: string;
  clientId: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  createdBy?: string;
  version: number;
}

export type ClientApiKeyRole = ClientRole;

/** The live-instance limit: maxInstances, tightened by quotas.instances. */
export const maxLiveOf = (client: Pick<Client, 'maxInstances' | 'quotas'>): number =>
  Math.min(client.maxInstances, client.quotas?.instances ?? Number.POSITIVE_INFINITY);

/** The quotas a create hands the repository's atomic check. */
export const createQuotaOf = (client: Pick<Client, 'name' | 'maxInstances' | 'quotas'>) => ({
  maxLive: maxLiveOf(client),
  clientName: client.name,
  ...(client.quotas?.vcpus !== undefined ? { maxVcpus: client.quotas.vcpus } : {}),
  ...(client.quotas?.gpus !== undefined ? { maxGpus: client.quotas.gpus } : {}),
  ...(client.quotas?.costPerHourMicros !== undefined ? { maxCostPerHourMicros: client.quotas.costPerHourMicros } : {}),
});

export const priceOverrideKey = (provider: string, instanceType: string) => `${provider}:${instanceType}`;

export const reconcilePolicyOf = (client: Pick<Client, 'reconcilePolicy'> | null | undefined): ReconcilePolicy => ({
  ...DEFAULT_RECONCILE_POLICY,
  ...client?.reconcilePolicy,
});

/** Case- and space-insensitive form of a client name, so "Acme Inc" and "acme  inc" collide. */
export const clientNameKey = (name: string) => name.trim().toLowerCase().replace(/\s+/g, ' ');

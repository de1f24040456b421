import { CATALOG_KINDS, type CatalogKind, type ProviderName } from './catalog.ts';

/**
 * What one sync job brings into the table: a catalog kind, or `instances` for status
 * reconciliation (drift, orphans, ghosts).
 */
export const SYNC_RESOURCE_TYPES = [...CATALOG_KINDS, 'instances'] as const;
export type SyncResourceType = (typeof SYNC_RESOURCE_TYPES)[number];

/**
 * Where a catalog lives and a reconciliation runs: one account in one region, or the shared
 * LOCAL provider. A catalog is per account, not per provider and region, because what an
 * account sees (private images and networks, its key pairs) differs between accounts.
 */
export interface SyncTarget {
  provider: ProviderName;
  region: string;
  /** The cloud account; absent for the shared LOCAL provider. */
  accountId?: string;
  /** The account's owner; absent for the shared LOCAL provider. */
  clientId?: string;
}

/** `shared` stands for "no account" in keys, so LOCAL's catalog has a partition too. */
export const SHARED_SCOPE = 'shared';
export const scopeOfTarget = (target: SyncTarget) => target.accountId ?? SHARED_SCOPE;
export const targetKey = (target: SyncTarget) => `${target.provider}#${scopeOfTarget(target)}#${target.region}`;
export const describeTarget = (target: SyncTarget) =>
  target.accountId ? `${target.provider} account ${target.accountId} (${target.region})` : `${target.provider} (${target.region})`;

export const SYNC_JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type SyncJobStatus = (typeof SYNC_JOB_STATUSES)[number];

/** What status reconciliation found; each entry names the instance and what happened to it. */
export interface ReconcileFinding {
  kind: 'drift' | 'orphan' | 'ghost';
  /** `reported` on sight; `corrected` (drift), `terminated` (orphan), `marked-terminated` (ghost). */
  outcome: 'reported' | 'corrected' | 'terminated' | 'marked-terminated' | 'cleared';
  instanceId?: string;
  providerInstanceId: string;
  clientId?: string;
  message: string;
}

/** One run of one resource type against one target: the record behind GET /api/sync-jobs/{id}. */
export interface SyncJob {
  jobId: string;
  resourceType: SyncResourceType;
  provider: ProviderName;
  region: string;
  accountId?: string;
  /** The account's owner, or `shared` for LOCAL: what tenants are allowed to read. */
  clientId: string;
  trigger: 'schedule' | 'request';
  requestedBy?: string;
  status: SyncJobStatus;
  queuedAt: string;
  startedAt?: string;
  completedAt?: string;
  /** Items written new, changed, and marked deleted; `unchanged` items cost no write. */
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Status reconciliation read only what changed since the last run (OpenStack changes-since). */
  incremental?: boolean;
  findings?: ReconcileFinding[];
  errors: string[];
}

/** How a client wants reconciliation to act once its grace period has passed. */
export interface ReconcilePolicy {
  /** Minutes an orphan or ghost must stay so before anything is done about it. */
  graceMinutes: number;
  /** `report` keeps reporting; `terminate` releases the machine at the provider. */
  orphans: 'report' | 'terminate';
  /** `mark-terminated` closes the record (billing stops) once the provider confirms the machine gone. */
  ghosts: 'report' | 'mark-terminated';
}

export const DEFAULT_RECONCILE_POLICY: ReconcilePolicy = { graceMinutes: 30, orphans: 'report', ghosts: 'mark-terminated' };

/** Per target and resource type: what the next run needs to know about the previous ones. */
export interface SyncState {
  targetKey: string;
  resourceType: SyncResourceType;
  lastSucceededAt?: string;
  /** Last full (not incremental) reconciliation: incremental runs are trusted only for so long. */
  lastFullAt?: string;
  /** Incremental reconciliation asks the provider for changes since this moment. */
  watermark?: string;
  /** Orphans and ghosts by provider id, with when they were first seen: the grace period's clock. */
  suspects?: Record<string, { kind: 'orphan' | 'ghost'; firstSeenAt: string; instanceId?: string; clientId?: string }>;
  version: number;
}

export const isCatalogKind = (type: SyncResourceType): type is CatalogKind => type !== 'instances';

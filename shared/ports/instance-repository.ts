import type { ProviderName } from '../domain/catalog.ts';
import type { NewBusinessAction } from '../domain/business-actions.ts';
import type { InstanceEvent } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import type { InstanceStatus } from '../domain/lifecycle.ts';
import type { Counters } from '../domain/statistics.ts';
import type { ResourceSample } from './compute-provider.ts';
import type { Page, PageRequest } from './page.ts';

export type { Page, PageRequest } from './page.ts';

export interface HealthCheckRecord {
  checkedAt: string;
  status: 'HEALTHY' | 'UNHEALTHY' | 'ERROR';
  error?: string;
}

export interface InstanceFilters {
  status?: InstanceStatus;
  provider?: ProviderName;
  type?: string;
  userId?: string;
  /** `key` or `key=value` */
  tag?: string;
}

/** An event as a use case writes it; the repository gives it its id, owner and (default) time. */
export type NewInstanceEvent = Omit<InstanceEvent, 'eventId' | 'instanceId' | 'clientId' | 'at'> & { at?: string };

/**
 * The quotas a create must respect: live instances, and optionally the vCPUs, GPUs and $/hour
 * that live instances hold. `clientName` only words the refusal.
 */
export interface LiveQuota {
  maxLive: number;
  maxVcpus?: number;
  maxGpus?: number;
  maxCostPerHourMicros?: number;
  clientName?: string;
}

/** A background pass that comes due for an instance: auto-terminate at its deadline, idle stop. */
export type DueKind = 'auto-terminate' | 'idle-stop';

/** When a pass comes due for an instance: only a lead to it, which the pass checks itself. */
export interface DueEntry {
  kind: DueKind;
  clientId: string;
  id: string;
  dueAt: string;
}

/**
 * Instances, their events, samples and health history, and the statistics counters they move.
 * Every state change is all-or-nothing: the instance (conditional on the version it was read
 * at), its events and the counters are written together or not at all.
 */
export interface InstanceRepository {
  get(clientId: string, id: string): Promise<Instance | null>;
  /** By id alone (platform admin, workflows, reconcilers). */
  findById(id: string): Promise<Instance | null>;
  /**
   * Create the instance with its first event. An existing id is a ConflictError; with a quota,
   * a client already holding `maxLive` live instances is refused with a QuotaExceededError,
   * decided in the same atomic write (concurrent creates cannot pass the limit together).
   * `action`, when given, is the business action written in that same write.
   */
  create(instance: Instance, event: NewInstanceEvent, quota?: LiveQuota, action?: NewBusinessAction): Promise<void>;
  /**
   * Persist `after` if the stored instance is still at `before.version`, else VersionConflictError;
   * with its events, the counters and (for an act on the client's behalf) the business action.
   */
  save(before: Instance, after: Instance, events: NewInstanceEvent[], action?: NewBusinessAction): Promise<void>;
  /** Record something that happened without changing the instance (a step's progress). */
  appendEvent(instance: Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent): Promise<InstanceEvent>;
  /**
   * A client's instances matching every filter, a page at a time: in creation order when a
   * status filter leads (no tag), else in id order. A page costs about what it returns, however
   * many instances the client holds and however few match (each filter is served by an index).
   */
  list(clientId: string, filters: InstanceFilters, page: PageRequest): Promise<Page<Instance>>;
  /** Every instance in `status` across clients (optionally one provider): for reconcilers. */
  listByStatus(status: InstanceStatus, provider?: ProviderName): Promise<Instance[]>;
  /**
   * Every instance in `status` across clients (optionally one provider), a page of at most
   * `pageSize` (default 100) at a time: what a periodic pass walks in bounded memory.
   */
  statusPages(status: InstanceStatus, options?: { provider?: ProviderName; pageSize?: number }): AsyncIterable<Instance[]>;
  /**
   * The instances for which `kind` is due by `now`, a page of at most `pageSize` (default 100) at
   * a time, read from an index by due time, so a pass reads about what is due however many
   * instances are live: auto-terminate at `autoTerminateAt` while the instance can be terminated,
   * idle stop at `idleSince` + `config.idleStopMinutes` minutes while READY. `minuteMs` is the
   * deployment's minute (default a real one); a shorter one may bring idle stops not yet due.
   * Entries lead to candidates: decide with the instance itself (a page may be stale by then).
   */
  duePages(kind: DueKind, now: Date, options?: { minuteMs?: number; pageSize?: number }): AsyncIterable<DueEntry[]>;
  /** A client's instances on one of its accounts, in any of `statuses`. */
  listByAccount(clientId: string, accountId: string, statuses: readonly InstanceStatus[]): Promise<Instance[]>;
  /** Oldest first. */
  events(instanceId: string, page: PageRequest): Promise<Page<InstanceEvent>>;
  /** Kept `retentionSeconds` (default a day). */
  recordSample(instanceId: string, sample: ResourceSample, retentionSeconds?: number): Promise<void>;
  /** Newest first. */
  samples(instanceId: string, page: PageRequest): Promise<Page<ResourceSample>>;
  /** Kept `retentionSeconds` (default a week). */
  recordHealthCheck(instanceId: string, check: HealthCheckRecord, retentionSeconds?: number): Promise<void>;
  /** Newest first. */
  healthChecks(instanceId: string, page: PageRequest): Promise<Page<HealthCheckRecord>>;
  /** A client's (or one of its users') counters, as of the last change. */
  counters(scope: { clientId: string; userId?: string }): Promise<Counters>;
}

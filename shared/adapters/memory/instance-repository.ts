import { monotonicFactory } from 'ulid';
import type { ProviderName } from '../../domain/catalog.ts';
import { ConflictError, QuotaExceededError, VersionConflictError } from '../../domain/errors.ts';
import { quotaExceededError } from '../../domain/budget.ts';
import type { NewBusinessAction } from '../../domain/business-actions.ts';
import type { InstanceEvent } from '../../domain/events.ts';
import { MemoryBusinessActionRepository } from './business-action-repository.ts';
import type { Instance } from '../../domain/instance.ts';
import type { InstanceStatus } from '../../domain/lifecycle.ts';
import { type CounterDelta, counterDelta, type Counters, emptyCounters, SCALAR_COUNTERS } from '../../domain/statistics.ts';
import type { ResourceSample } from '../../ports/compute-provider.ts';
import type {
  DueEntry,
  DueKind,
  HealthCheckRecord,
  InstanceFilters,
  InstanceRepository,
  LiveQuota,
  NewInstanceEvent,
  Page,
  PageRequest,
} from '../../ports/instance-repository.ts';
import { copy, pageOf, pagesOf, sortedBy } from './memory-page.ts';
import { dueEntriesOf, idleStopLookaheadMs } from '../../db/due-entries.ts';

const nextUlid = monotonicFactory();

/**
 * Instances in memory, with the conditions of the DynamoDB adapter: a create or save checks
 * every condition before it changes anything, and nothing awaits in between, so a change and
 * its events and counters land together or not at all.
 */
export class MemoryInstanceRepository implements InstanceRepository {
  private readonly instances = new Map<string, Instance>();
  private readonly eventLog = new Map<string, InstanceEvent[]>();
  private readonly sampleLog = new Map<string, Map<string, ResourceSample>>();
  private readonly healthLog = new Map<string, Map<string, HealthCheckRecord>>();
  private readonly counterItems = new Map<string, Counters>();

  constructor(private readonly actions = new MemoryBusinessActionRepository()) {}

  async get(clientId: string, id: string): Promise<Instance | null> {
    const stored = this.instances.get(keyOf(clientId, id));
    return stored ? copy(stored) : null;
  }

  async findById(id: string): Promise<Instance | null> {
    for (const instance of this.instances.values()) if (instance.id === id) return copy(instance);
    return null;
  }

  async create(instance: Instance, event: NewInstanceEvent, quota?: LiveQuota, action?: NewBusinessAction): Promise<void> {
    if (this.instances.has(keyOf(instance.clientId, instance.id))) {
      throw new ConflictError(`Instance '${instance.id}' already exists`, 'ALREADY_EXISTS');
    }
    const refusal = quota ? quotaExceededError(quota, this.counterItems.get(instance.clientId) ?? emptyCounters(), instance) : null;
    if (refusal) throw refusal;
    this.apply(null, instance, [event]);
    this.actions.append(action, instance.updatedAt);
  }

  async save(before: Instance, after: Instance, events: NewInstanceEvent[], action?: NewBusinessAction): Promise<void> {
    const stored = this.instances.get(keyOf(after.clientId, after.id));
    if (!stored || stored.version !== before.version) throw new VersionConflictError('Instance', after.id);
    this.apply(before, after, events);
    this.actions.append(action, after.updatedAt);
  }

  async appendEvent(instance: Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent): Promise<InstanceEvent> {
    const at = 'updatedAt' in instance && typeof instance.updatedAt === 'string' ? instance.updatedAt : new Date().toISOString();
    return copy(this.append(instance, event, at));
  }

  async list(clientId: string, filters: InstanceFilters, page: PageRequest): Promise<Page<Instance>> {
    // The orders of the DynamoDB indexes: by creation within a status (unless a tag's index
    // serves the page), by id in the client's partition and in every tag and facet index.
    const byCreation = filters.status && !filters.tag;
    const sortKey = byCreation ? (i: Instance) => `${i.createdAt}#${i.id}` : (i: Instance) => i.id;
    const matching = [...this.instances.values()].filter(
      (i) =>
        i.clientId === clientId &&
        (!filters.status || i.status === filters.status) &&
        (!filters.provider || i.provider === filters.provider) &&
        (!filters.type || i.type === filters.type) &&
        (!filters.userId || i.userId === filters.userId) &&
        (!filters.tag || tagTerms(i).includes(filters.tag)),
    );
    const result = pageOf(`instances/${clientId}/${JSON.stringify(filters)}`, sortedBy(matching, sortKey), sortKey, page);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async listByStatus(status: InstanceStatus, provider?: ProviderName): Promise<Instance[]> {
    const matching = [...this.instances.values()].filter((i) => i.status === status && (!provider || i.provider === provider));
    return sortedBy(matching, (i) => `${i.provider}#${i.createdAt}#${i.id}`).map(copy);
  }

  async *statusPages(status: InstanceStatus, options: { provider?: ProviderName; pageSize?: number } = {}): AsyncIterable<Instance[]> {
    const matching = () => [...this.instances.values()].filter((i) => i.status === status && (!options.provider || i.provider === options.provider));
    const sortKey = (i: Instance) => `${i.provider}#${i.createdAt}#${i.id}`;
    for await (const page of pagesOf(`status/${status}/${options.provider ?? ''}`, matching, sortKey, options.pageSize ?? PASS_PAGE_SIZE)) yield page.map(copy);
  }

  /** The table's due entries, derived from the instances as they stand (the same rule writes them there). */
  async *duePages(kind: DueKind, now: Date, options: { minuteMs?: number; pageSize?: number } = {}): AsyncIterable<DueEntry[]> {
    const bound = now.getTime() + (kind === 'idle-stop' ? idleStopLookaheadMs(options.minuteMs) : 0);
    const due = () => [...this.instances.values()].flatMap((i) => dueEntriesOf(i).filter((e) => e.kind === kind && Date.parse(e.dueAt) <= bound));
    yield* pagesOf(`due/${kind}`, due, (e) => `${e.dueAt}#${e.clientId}#${e.id}`, options.pageSize ?? PASS_PAGE_SIZE);
  }

  async listByAccount(clientId: string, accountId: string, statuses: readonly InstanceStatus[]): Promise<Instance[]> {
    return this.instancesOf(clientId).filter((i) => i.config.accountId === accountId && statuses.includes(i.status));
  }

  async events(instanceId: string, page: PageRequest): Promise<Page<InstanceEvent>> {
    const result = pageOf(`events/${instanceId}`, this.eventLog.get(instanceId) ?? [], (e) => e.eventId, page);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async recordSample(instanceId: string, sample: ResourceSample): Promise<void> {
    const samples = this.sampleLog.get(instanceId) ?? new Map<string, ResourceSample>();
    samples.set(sample.sampledAt, copy(sample));
    this.sampleLog.set(instanceId, samples);
  }

  async samples(instanceId: string, page: PageRequest): Promise<Page<ResourceSample>> {
    const all = sortedBy(this.sampleLog.get(instanceId)?.values() ?? [], (s) => s.sampledAt, 'desc');
    const result = pageOf(`samples/${instanceId}`, all, (s) => s.sampledAt, page, 'desc');
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async recordHealthCheck(instanceId: string, check: HealthCheckRecord): Promise<void> {
    const checks = this.healthLog.get(instanceId) ?? new Map<string, HealthCheckRecord>();
    checks.set(check.checkedAt, copy(check));
    this.healthLog.set(instanceId, checks);
  }

  async healthChecks(instanceId: string, page: PageRequest): Promise<Page<HealthCheckRecord>> {
    const all = sortedBy(this.healthLog.get(instanceId)?.values() ?? [], (c) => c.checkedAt, 'desc');
    const result = pageOf(`health/${instanceId}`, all, (c) => c.checkedAt, page, 'desc');
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async counters(scope: { clientId: string; userId?: string }): Promise<Counters> {
    const stored = this.counterItems.get(scope.userId ? `${scope.clientId}#${scope.userId}` : scope.clientId);
    return stored ? copy(stored) : emptyCounters();
  }

  /** A client's instances in partition order; what the account repository reads for instancesUsing. */
  instancesOf(clientId: string): Instance[] {
    return sortedBy(
      [...this.instances.values()].filter((i) => i.clientId === clientId),
      (i) => i.id,
    ).map(copy);
  }

  private apply(before: Instance | null, after: Instance, events: NewInstanceEvent[]): void {
    this.instances.set(keyOf(after.clientId, after.id), copy(after));
    for (const event of events) this.append(after, event, after.updatedAt);
    const delta = counterDelta(before, after);
    this.addCounters(after.clientId, delta);
    if (after.userId) this.addCounters(`${after.clientId}#${after.userId}`, delta);
  }

  private append(instance: Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent, defaultAt: string): InstanceEvent {
    const at = event.at ?? defaultAt;
    const full: InstanceEvent = { ...copy(event), at, eventId: nextUlid(Date.parse(at)), instanceId: instance.id, clientId: instance.clientId };
    const log = this.eventLog.get(instance.id) ?? [];
    log.push(full);
    // Ids are minted from each event's own time, so an event dated earlier sorts earlier, as in the table.
    this.eventLog.set(instance.id, sortedBy(log, (e) => e.eventId));
    return full;
  }

  /** ADD semantics: per-provider and per-type counts appear on first non-zero change. */
  private addCounters(key: string, delta: CounterDelta): void {
    const c = this.counterItems.get(key) ?? emptyCounters();
    for (const name of SCALAR_COUNTERS) c[name] += delta[name];
    c.openRateSince += delta.openRateSince;
    c.openStorageSince += delta.openStorageSince;
    for (const [p, n] of Object.entries(delta.byProvider)) if (n) c.byProvider[p] = (c.byProvider[p] ?? 0) + n;
    for (const [t, n] of Object.entries(delta.byType)) if (n) c.byType[t] = (c.byType[t] ?? 0) + n;
    this.counterItems.set(key, c);
  }
}


const keyOf = (clientId: string, id: string) => `${clientId}/${id}`;
/** What a background pass holds at once, as in the table. */
const PASS_PAGE_SIZE = 100;

/** `key` and `key=value` for every tag, as the table's filter matches them. */
const tagTerms = (instance: Instance) => Object.entries(instance.tags).flatMap(([k, v]) => [k, `${k}=${v}`]);

import { monotonicFactory } from 'ulid';
import { ConflictError, QuotaExceededError, VersionConflictError } from '../../domain/errors.ts';
import type { NewBusinessAction } from '../../domain/business-actions.ts';
import type { InstanceEvent } from '../../domain/events.ts';
import { businessActionItems } from '../../db/business-actions.ts';
import type { Instance } from '../../domain/instance.ts';
import type { InstanceStatus } from '../../domain/lifecycle.ts';
import type { ProviderName } from '../../domain/catalog.ts';
import { counterDelta, type Counters } from '../../domain/statistics.ts';
import type { ResourceSample } from '../../ports/compute-provider.ts';
import type {
  HealthCheckRecord,
  InstanceFilters,
  InstanceRepository,
  LiveQuota,
  NewInstanceEvent,
  Page,
  PageRequest,
} from '../../ports/instance-repository.ts';
import type { Db } from '../../db/db.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { counterUpdates, liveOf, readCounters } from '../../db/statistics-counters.ts';
import { TransactionConditionFailed, TransactionContention, type TransactWriteItem, writeTransaction } from '../../db/transactions.ts';

const nextUlid = monotonicFactory();
/** Event ids sort by time (ULID), so an instance's log reads in order. */
export const newEventId = (at: Date) => nextUlid(at.getTime());

/**
 * Every state change is one transaction: the instance conditional on the version it was read
 * at, its events, and the counters (the client's guarded by the quota on create).
 */
export class DynamoInstanceRepository implements InstanceRepository {
  constructor(private readonly db: Db) {}

  async get(clientId: string, id: string): Promise<Instance | null> {
    const { data } = await this.db.entities.entities.instance.get({ clientId, id }).go({ consistent: true });
    return data ? fromItem(data) : null;
  }

  /** Look an instance up by id alone (platform admin, workflows); the index is only a pointer. */
  async findById(id: string): Promise<Instance | null> {
    const { data } = await this.db.entities.entities.instance.query.byId({ id }).go({ attributes: ['clientId'] });
    const owner = data[0]?.clientId;
    return owner ? this.get(owner, id) : null;
  }

  /** Create the instance unless the client already holds `maxLive` live instances. */
  async create(instance: Instance, event: NewInstanceEvent, quota?: LiveQuota, action?: NewBusinessAction): Promise<void> {
    const put = this.db.entities.entities.instance.create(toItem(instance)).params() as TransactWriteItem['Put'];
    const events = this.eventItems(instance, [event]);
    const counters = counterUpdates(this.db.tableName, { clientId: instance.clientId, userId: instance.userId }, counterDelta(null, instance), quota);
    try {
      // The business action goes last, so the counters keep their index for the quota's refusal.
      await this.write(instance, [{ Put: put }, ...events, ...counters, ...businessActionItems(this.db.tableName, action, instance.updatedAt)], 'create');
    } catch (error) {
      const clientCountersAt = 1 + events.length;
      if (quota && error instanceof TransactionConditionFailed && error.failedIndexes.includes(clientCountersAt)) {
        // The refused counters item as it stood; read it again only if DynamoDB did not return it.
        const refused = error.items[clientCountersAt];
        const live = refused ? liveOf(refused) : (await this.counters({ clientId: instance.clientId })).live;
        throw QuotaExceededError.liveInstances(quota.clientName ?? instance.clientId, live, quota.maxLive);
      }
      throw error;
    }
  }

  /** Persist `after` if the stored instance is still at `before.version`; a lost race is a 409. */
  async save(before: Instance, after: Instance, events: NewInstanceEvent[], action?: NewBusinessAction): Promise<void> {
    const put = this.db.entities.entities.instance
      .put(toItem(after))
      .where(({ version }, { eq }) => eq(version, before.version))
      .params() as TransactWriteItem['Put'];
    await this.write(
      after,
      [{ Put: put }, ...this.eventItems(after, events), ...this.counterItems(before, after), ...businessActionItems(this.db.tableName, action, after.updatedAt)],
      'save',
    );
  }

  /** Record something that happened without changing the instance (a step's progress). */
  async appendEvent(instance: Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent): Promise<InstanceEvent> {
    const full = this.toEvent(instance, event);
    await this.db.entities.entities.event.create({ ...full, version: 1 }).go();
    return full;
  }

  async list(clientId: string, filters: InstanceFilters, page: PageRequest): Promise<Page<Instance>> {
    const { instance } = this.db.entities.entities;
    const query = filters.status
      ? instance.query.byClientStatus({ clientId, status: filters.status })
      : instance.query.byClient({ clientId });
    const filtered = query.where((attr, op) =>
      [
        filters.provider ? op.eq(attr.provider, filters.provider) : '',
        filters.type ? op.eq(attr.type, filters.type as Instance['type']) : '',
        filters.userId ? op.eq(attr.userId, filters.userId) : '',
        filters.tag ? op.contains(attr.tagTerms, filters.tag) : '',
      ]
        .filter(Boolean)
        .join(' AND '),
    );
    const result = await paged<Instance & { tagTerms?: string[] }>(() => filtered.go(pageOptions(page)));
    return { items: result.items.map(fromItem), cursor: result.cursor };
  }

  /** Every instance in `status` across clients (optionally one provider): for reconcilers. */
  async listByStatus(status: InstanceStatus, provider?: ProviderName): Promise<Instance[]> {
    const { instance } = this.db.entities.entities;
    const query = instance.query.byStatus({ status });
    const { data } = await (provider ? query.begins({ provider }) : query).go({ pages: 'all' });
    return data.map(fromItem);
  }

  /** A client's instances on one of its accounts, in any of `statuses`: reads that client's partition only. */
  async listByAccount(clientId: string, accountId: string, statuses: readonly InstanceStatus[]): Promise<Instance[]> {
    const { data } = await this.db.entities.entities.instance.query
      .byClient({ clientId })
      .where(({ config, status }, { name, escape, eq }) => `${name(config)}.accountId = ${escape(accountId)} AND (${statuses.map((s) => eq(status, s)).join(' OR ')})`)
      .go({ pages: 'all' });
    return data.map(fromItem);
  }

  async events(instanceId: string, page: PageRequest): Promise<Page<InstanceEvent>> {
    return paged(() =>
      this.db.entities.entities.event.query.byInstance({ instanceId }).go(pageOptions(page)),
    );
  }

  async recordSample(instanceId: string, sample: ResourceSample, retentionSeconds = 24 * 3600): Promise<void> {
    const ttl = Math.floor(Date.parse(sample.sampledAt) / 1000) + retentionSeconds;
    await this.db.entities.entities.metric.put({ instanceId, ...sample, ttl, version: 1 }).go();
  }

  /**
   * Newest samples first. Whole items are read and trimmed here: with an `attributes`
   * projection ElectroDB cannot build a cursor from the page's last item, so page two failed.
   */
  async samples(instanceId: string, page: PageRequest): Promise<Page<ResourceSample>> {
    const result = await paged<ResourceSample>(() =>
      this.db.entities.entities.metric.query.byInstance({ instanceId }).go({ ...pageOptions(page), order: 'desc' }),
    );
    return { items: result.items.map(({ sampledAt, cpuPercent, memoryBytes }) => ({ sampledAt, cpuPercent, memoryBytes })), cursor: result.cursor };
  }

  async recordHealthCheck(instanceId: string, check: HealthCheckRecord, retentionSeconds = 7 * 24 * 3600): Promise<void> {
    const ttl = Math.floor(Date.parse(check.checkedAt) / 1000) + retentionSeconds;
    await this.db.entities.entities.healthCheck.put({ instanceId, ...check, ttl, version: 1 }).go();
  }

  /** Newest first; whole items read, as for samples. */
  async healthChecks(instanceId: string, page: PageRequest): Promise<Page<HealthCheckRecord>> {
    const result = await paged<HealthCheckRecord>(() =>
      this.db.entities.entities.healthCheck.query.byInstance({ instanceId }).go({ ...pageOptions(page), order: 'desc' }),
    );
    return {
      items: result.items.map(({ checkedAt, status, error }) => ({ checkedAt, status, ...(error !== undefined ? { error } : {}) })),
      cursor: result.cursor,
    };
  }

  counters(scope: { clientId: string; userId?: string }): Promise<Counters> {
    return readCounters(this.db, scope);
  }

  /**
   * The items `create` writes for an instance, as stored (events and counters aside): what a
   * bulk load (the bench's seed, a migration) writes with BatchWriteItem.
   */
  itemsOf(instance: Instance): Record<string, unknown>[] {
    return [this.db.entities.entities.instance.put(toItem(instance)).params<{ Item: Record<string, unknown> }>().Item];
  }

  private eventItems(instance: Instance, events: NewInstanceEvent[]): TransactWriteItem[] {
    return events.map((event) => ({
      Put: this.db.entities.entities.event.create({ ...this.toEvent(instance, event), version: 1 }).params() as TransactWriteItem['Put'],
    }));
  }

  private counterItems(before: Instance | null, after: Instance): TransactWriteItem[] {
    return counterUpdates(this.db.tableName, { clientId: after.clientId, userId: after.userId }, counterDelta(before, after));
  }

  private toEvent(instance: Pick<Instance, 'id' | 'clientId' | 'updatedAt'> | Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent): InstanceEvent {
    const at = event.at ?? ('updatedAt' in instance ? instance.updatedAt : new Date().toISOString());
    return { ...event, at, eventId: newEventId(new Date(at)), instanceId: instance.id, clientId: instance.clientId };
  }

  private async write(instance: Instance, items: TransactWriteItem[], kind: 'create' | 'save'): Promise<void> {
    try {
      await writeTransaction(this.db, items);
    } catch (error) {
      if (error instanceof TransactionConditionFailed && error.failedIndexes.includes(0)) {
        throw kind === 'create'
          ? new ConflictError(`Instance '${instance.id}' already exists`, 'ALREADY_EXISTS')
          : new VersionConflictError('Instance', instance.id);
      }
      if (error instanceof TransactionContention) throw new ConflictError(error.message, 'BUSY');
      throw error;
    }
  }
}

const toItem = (instance: Instance) => ({
  ...instance,
  tagTerms: Object.entries(instance.tags).flatMap(([k, v]) => [k, `${k}=${v}`]),
});

function fromItem(item: object): Instance {
  const { tagTerms: _derived, ...instance } = item as Instance & { tagTerms?: string[] };
  return instance;
}

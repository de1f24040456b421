import { BatchWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
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
import type { Db } from '../../db/db.ts';
import type { TableEntities } from '../../db/table-entities.ts';
import { INSTANCE_ATTRIBUTES } from '../../db/attributes.ts';
import { DUE_KINDS, dueEntriesOf, dueEntryOf, idleStopLookaheadMs } from '../../db/due-entries.ts';
import { DUE_SHARDS, dueShardOf, KEY_TEMPLATES, keyOf } from '../../db/keys.ts';
import { batchGetItems, getItem, itemReader, partitionQuery, queryPage, queryPages } from '../../db/item-pages.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { counterUpdates, countersOfItem, readCounters } from '../../db/statistics-counters.ts';
import { quotaExceededError } from '../../domain/budget.ts';
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

  /** The ElectroDB entities, loaded on the first write or query that needs one (Db.entities). */
  private async entities() {
    return (await this.db.entities()).core;
  }

  async get(clientId: string, id: string): Promise<Instance | null> {
    return getItem(this.db, keyOf(KEY_TEMPLATES.instance, { clientId, id }), readInstance);
  }

  /** Look an instance up by id alone (platform admin, workflows); the index is only a pointer. */
  async findById(id: string): Promise<Instance | null> {
    const query = { ...partitionQuery(this.db, KEY_TEMPLATES.instanceById, { id }), ProjectionExpression: 'clientId' };
    const { items } = await queryPage(this.db, query, { limit: 1 }, (item) => item.clientId as string);
    const owner = items[0];
    return owner ? this.get(owner, id) : null;
  }

  /** Create the instance unless the client already holds `maxLive` live instances. */
  async create(instance: Instance, event: NewInstanceEvent, quota?: LiveQuota, action?: NewBusinessAction): Promise<void> {
    const e = await this.entities();
    const put = e.instance.create(toItem(instance)).params() as TransactWriteItem['Put'];
    const events = this.eventItems(e, instance, [event]);
    const counters = counterUpdates(this.db.tableName, { clientId: instance.clientId, userId: instance.userId }, counterDelta(null, instance), quota);
    try {
      // The business action goes last, so the counters keep their index for the quota's refusal.
      // The index entries go after it all: they are never conditional.
      await this.write(
        instance,
        [{ Put: put }, ...events, ...counters, ...businessActionItems(this.db.tableName, action, instance.updatedAt), ...this.indexPuts(e, instance)],
        'create',
      );
    } catch (error) {
      const clientCountersAt = 1 + events.length;
      if (quota && error instanceof TransactionConditionFailed && error.failedIndexes.includes(clientCountersAt)) {
        // The refused counters item as it stood; read it again only if DynamoDB did not return it.
        const refused = error.items[clientCountersAt];
        const counters = refused ? countersOfItem(refused) : await this.counters({ clientId: instance.clientId });
        throw quotaExceededError(quota, counters, instance) ?? QuotaExceededError.liveInstances(quota.clientName ?? instance.clientId, counters.live, quota.maxLive);
      }
      throw error;
    }
  }

  /** Persist `after` if the stored instance is still at `before.version`; a lost race is a 409. */
  async save(before: Instance, after: Instance, events: NewInstanceEvent[], action?: NewBusinessAction): Promise<void> {
    const e = await this.entities();
    const put = e.instance
      .put(toItem(after))
      .where(({ version }, { eq }) => eq(version, before.version))
      .params() as TransactWriteItem['Put'];
    const items = [{ Put: put }, ...this.eventItems(e, after, events), ...this.counterItems(before, after), ...businessActionItems(this.db.tableName, action, after.updatedAt)];
    const { puts, deletes } = this.indexChanges(e, before, after);
    // Due entries land with the change, set, moved or removed: a pass must not miss a deadline,
    // nor read a passed one forever.
    const due = this.dueChanges(e, before, after);
    // A transaction holds 100 items. Entries for new tags must land with the change; those of
    // removed tags may follow it, since readers check every entry against the instance itself.
    const room = Math.max(0, MAX_TRANSACTION_ITEMS - items.length - due.length - puts.length);
    await this.write(after, [...items, ...due, ...puts, ...deletes.slice(0, room)], 'save');
    if (deletes.length > room) await this.batchDelete(deletes.slice(room));
  }

  /** Record something that happened without changing the instance (a step's progress). */
  async appendEvent(instance: Pick<Instance, 'id' | 'clientId'>, event: NewInstanceEvent): Promise<InstanceEvent> {
    const full = this.toEvent(instance, event);
    await (await this.entities()).event.create({ ...full, version: 1 }).go();
    return full;
  }

  /**
   * One page, read through the index that serves the filters: a tag by its tag entries, else a
   * status by gsi2 (the other filters as a filter expression there), else the user, type or
   * provider by the instance's facet entries, else the client's partition. Index entries lead
   * to the instances with one consistent BatchGetItem, and each instance is checked against
   * every filter, so a page reads about what it returns whatever the client holds.
   */
  async list(clientId: string, filters: InstanceFilters, page: PageRequest): Promise<Page<Instance>> {
    if (filters.tag) {
      const at = filters.tag.indexOf('=');
      const tagKey = at < 0 ? filters.tag : filters.tag.slice(0, at);
      const entries =
        at < 0
          ? partitionQuery(this.db, KEY_TEMPLATES.instancesByTagKey, { clientId, tagKey })
          : partitionQuery(this.db, KEY_TEMPLATES.instancesByTag, { clientId, tagKey, tagValue: filters.tag.slice(at + 1) });
      return this.listThroughIndex(clientId, filters, page, entries);
    }
    const { status, userId, type, provider } = filters;
    if (status) {
      const query = partitionQuery(this.db, KEY_TEMPLATES.instancesByClientStatus, { clientId, status }, { equal: { provider, type, userId } });
      return queryPage(this.db, query, page, readInstance);
    }
    if (userId) return this.listThroughIndex(clientId, filters, page, partitionQuery(this.db, KEY_TEMPLATES.instancesByUser, { clientId, userId }));
    if (type) return this.listThroughIndex(clientId, filters, page, partitionQuery(this.db, KEY_TEMPLATES.instancesByType, { clientId, type }));
    if (provider) return this.listThroughIndex(clientId, filters, page, partitionQuery(this.db, KEY_TEMPLATES.instancesByProvider, { clientId, provider }));
    return queryPage(this.db, partitionQuery(this.db, KEY_TEMPLATES.instance, { clientId }), page, readInstance);
  }

  /**
   * Read index entries (at most as many as the page still needs), fetch their instances, keep
   * those that match, until the page is full or the entries end. The cursor is the index's, so
   * it points just after the last entry read.
   */
  private async listThroughIndex(
    clientId: string,
    filters: InstanceFilters,
    page: PageRequest,
    entries: QueryCommandInput,
  ): Promise<Page<Instance>> {
    const items: Instance[] = [];
    let cursor: string | null = page.cursor ?? null;
    do {
      const read = await queryPage(this.db, entries, { limit: Math.max(1, page.limit - items.length), cursor }, (entry) => entry.id as string);
      const found = await this.getMany(clientId, read.items);
      items.push(...found.filter((instance) => matchesFilters(instance, filters)));
      cursor = read.cursor;
    } while (cursor && items.length < page.limit);
    return { items, cursor };
  }

  /** Instances by id within one client, in the order asked, with consistent reads (BatchGetItem). */
  private async getMany(clientId: string, ids: string[]): Promise<Instance[]> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => keyOf(KEY_TEMPLATES.instance, { clientId, id }));
    const byId = new Map((await batchGetItems(this.db, keys, readInstance)).map((instance) => [instance.id, instance]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Every instance in `status` across clients (optionally one provider): for reconcilers. */
  async listByStatus(status: InstanceStatus, provider?: ProviderName): Promise<Instance[]> {
    const { instance } = await this.entities();
    const query = instance.query.byStatus({ status });
    const { data } = await (provider ? query.begins({ provider }) : query).go({ pages: 'all' });
    return data.map(fromItem);
  }

  /** Every instance in `status` (optionally one provider: the index's sort key starts with it), a page at a time. */
  async *statusPages(status: InstanceStatus, options: { provider?: ProviderName; pageSize?: number } = {}): AsyncIterable<Instance[]> {
    const params = partitionQuery(this.db, KEY_TEMPLATES.instancesByStatus, { status, ...(options.provider ? { provider: options.provider } : {}) });
    yield* queryPages(this.db, params, options.pageSize ?? PASS_PAGE_SIZE, readInstance);
  }

  /**
   * The due entries of `kind` up to `now`, shard by shard, a page at a time. Idle stop entries
   * are keyed at real minutes (../../db/due-entries.ts), so a shorter minute reads ahead by what
   * it can take off the longest idle stop.
   */
  async *duePages(kind: DueKind, now: Date, options: { minuteMs?: number; pageSize?: number } = {}): AsyncIterable<DueEntry[]> {
    const lookahead = kind === 'idle-stop' ? idleStopLookaheadMs(options.minuteMs) : 0;
    // Sort keys are `<due ISO>#…`: every entry due by the bound sorts below `<bound>$`.
    const bound = `${new Date(now.getTime() + lookahead).toISOString()}$`;
    for (let shard = 0; shard < DUE_SHARDS; shard++) {
      const query = partitionQuery(this.db, KEY_TEMPLATES.dueByTime, { kind, shard: String(shard) }, { below: bound });
      yield* queryPages(this.db, query, options.pageSize ?? PASS_PAGE_SIZE, readDueEntry);
    }
  }

  /** A client's instances on one of its accounts, in any of `statuses`: reads that client's partition only. */
  async listByAccount(clientId: string, accountId: string, statuses: readonly InstanceStatus[]): Promise<Instance[]> {
    const { data } = await (await this.entities()).instance.query
      .byClient({ clientId })
      .where(({ config, status }, { name, escape, eq }) => `${name(config)}.accountId = ${escape(accountId)} AND (${statuses.map((s) => eq(status, s)).join(' OR ')})`)
      .go({ pages: 'all' });
    return data.map(fromItem);
  }

  async events(instanceId: string, page: PageRequest): Promise<Page<InstanceEvent>> {
    const { event } = await this.entities();
    return paged(() =>
      event.query.byInstance({ instanceId }).go(pageOptions(page)),
    );
  }

  async recordSample(instanceId: string, sample: ResourceSample, retentionSeconds = 24 * 3600): Promise<void> {
    const ttl = Math.floor(Date.parse(sample.sampledAt) / 1000) + retentionSeconds;
    await (await this.entities()).metric.put({ instanceId, ...sample, ttl, version: 1 }).go();
  }

  /**
   * Newest samples first. Whole items are read and trimmed here: with an `attributes`
   * projection ElectroDB cannot build a cursor from the page's last item, so page two failed.
   */
  async samples(instanceId: string, page: PageRequest): Promise<Page<ResourceSample>> {
    const { metric } = await this.entities();
    const result = await paged<ResourceSample>(() =>
      metric.query.byInstance({ instanceId }).go({ ...pageOptions(page), order: 'desc' }),
    );
    return { items: result.items.map(({ sampledAt, cpuPercent, memoryBytes }) => ({ sampledAt, cpuPercent, memoryBytes })), cursor: result.cursor };
  }

  async recordHealthCheck(instanceId: string, check: HealthCheckRecord, retentionSeconds = 7 * 24 * 3600): Promise<void> {
    const ttl = Math.floor(Date.parse(check.checkedAt) / 1000) + retentionSeconds;
    await (await this.entities()).healthCheck.put({ instanceId, ...check, ttl, version: 1 }).go();
  }

  /** Newest first; whole items read, as for samples. */
  async healthChecks(instanceId: string, page: PageRequest): Promise<Page<HealthCheckRecord>> {
    const { healthCheck } = await this.entities();
    const result = await paged<HealthCheckRecord>(() =>
      healthCheck.query.byInstance({ instanceId }).go({ ...pageOptions(page), order: 'desc' }),
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
   * Writes the index items every instance should have (facets, one entry per tag, what comes due
   * for it) and removes due entries it should not have: for tables holding instances stored
   * before those items existed. Idempotent, so it may run again or be resumed from the cursor a
   * page reports. Walks the table's instance items a page of `pageSize` at a time (a Scan: a
   * migration reads everything once, no request does); each instance's items are written in one
   * transaction conditional on the version read, so a change racing the backfill is read again.
   */
  async backfillIndexItems(
    options: { pageSize?: number; cursor?: string | null; concurrency?: number; onPage?: (progress: BackfillProgress) => void } = {},
  ): Promise<BackfillProgress> {
    const e = await this.entities();
    const progress: BackfillProgress = { instances: 0, retried: 0, cursor: options.cursor ?? null };
    const limit = options.pageSize ?? PASS_PAGE_SIZE;
    do {
      const page: { data: object[]; cursor: string | null } = await e.instance.scan.go({ limit, count: limit, cursor: progress.cursor });
      const queue = page.data.map(fromItem);
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) progress.retried += await this.backfillOne(e, next);
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
      progress.instances += page.data.length;
      progress.cursor = page.cursor;
      options.onPage?.({ ...progress });
    } while (progress.cursor);
    return progress;
  }

  /** One instance's index items, as of the version read; returns how many times a racing change made it read again. */
  private async backfillOne(e: Entities, read: Instance): Promise<number> {
    let instance: Instance | null = read;
    for (let attempt = 0; instance; attempt++) {
      const present = new Set(dueEntriesOf(instance).map((entry) => entry.kind));
      const items: TransactWriteItem[] = [
        {
          ConditionCheck: {
            TableName: this.db.tableName,
            Key: keyOf(KEY_TEMPLATES.instance, { clientId: instance.clientId, id: instance.id }),
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': instance.version },
          },
        },
        ...this.indexPuts(e, instance),
        ...DUE_KINDS.filter((kind) => !present.has(kind)).map((kind) => this.dueDelete(e, instance!.id, kind)),
      ];
      try {
        await writeTransaction(this.db, items);
        return attempt;
      } catch (error) {
        const raced = error instanceof TransactionConditionFailed || error instanceof TransactionContention;
        if (!raced || attempt >= BATCH_RETRIES) throw error;
        instance = await this.get(instance.clientId, instance.id);
      }
    }
    return 0;
  }

  /**
   * The items `create` writes for an instance, as stored (events and counters aside): what a
   * bulk load (the bench's seed, a migration) writes with BatchWriteItem.
   */
  async itemsOf(instance: Instance): Promise<Record<string, unknown>[]> {
    const e = await this.entities();
    return [{ Put: e.instance.put(toItem(instance)).params() as TransactWriteItem['Put'] }, ...this.indexPuts(e, instance)].map(
      (write) => write.Put!.Item as Record<string, unknown>,
    );
  }

  /** The index entries of a new instance: its facets, one entry per tag, and what comes due for it. */
  private indexPuts(e: Entities, instance: Instance): TransactWriteItem[] {
    const { instanceFacets } = e;
    const { id, clientId, type, provider, userId } = instance;
    return [
      { Put: instanceFacets.put({ id, clientId, type, provider, userId }).params() as TransactWriteItem['Put'] },
      ...Object.entries(instance.tags).map(([tagKey, tagValue]) => this.tagPut(e, instance, tagKey, tagValue)),
      ...dueEntriesOf(instance).map((entry) => this.duePut(e, entry)),
    ];
  }

  /** Due entries set or moved (a put replaces the entry of that kind) and those no longer due removed. */
  private dueChanges(e: Entities, before: Instance, after: Instance): TransactWriteItem[] {
    const changes: TransactWriteItem[] = [];
    for (const kind of DUE_KINDS) {
      const was = dueEntryOf(before, kind);
      const is = dueEntryOf(after, kind);
      if (is && is.dueAt !== was?.dueAt) changes.push(this.duePut(e, is));
      if (was && !is) changes.push(this.dueDelete(e, after.id, kind));
    }
    return changes;
  }

  private duePut(e: Entities, entry: DueEntry): TransactWriteItem {
    return { Put: e.instanceDue.put({ ...entry, shard: dueShardOf(entry.id) }).params() as TransactWriteItem['Put'] };
  }

  private dueDelete(e: Entities, id: string, kind: DueKind): TransactWriteItem {
    return { Delete: e.instanceDue.delete({ id, kind }).params() as TransactWriteItem['Delete'] };
  }

  /** What a save changes in the index entries: new or changed tags and facets put, removed tags deleted. */
  private indexChanges(e: Entities, before: Instance, after: Instance): { puts: TransactWriteItem[]; deletes: TransactWriteItem[] } {
    const { instanceFacets, instanceTag } = e;
    const puts: TransactWriteItem[] = [];
    if (before.type !== after.type || before.provider !== after.provider || before.userId !== after.userId) {
      const { id, clientId, type, provider, userId } = after;
      puts.push({ Put: instanceFacets.put({ id, clientId, type, provider, userId }).params() as TransactWriteItem['Put'] });
    }
    for (const [tagKey, tagValue] of Object.entries(after.tags)) {
      if (!Object.hasOwn(before.tags, tagKey) || before.tags[tagKey] !== tagValue) puts.push(this.tagPut(e, after, tagKey, tagValue));
    }
    const deletes = Object.keys(before.tags)
      .filter((tagKey) => !Object.hasOwn(after.tags, tagKey))
      .map((tagKey) => ({ Delete: instanceTag.delete({ id: after.id, tagKey }).params() as TransactWriteItem['Delete'] }));
    return { puts, deletes };
  }

  private tagPut(e: Entities, instance: Instance, tagKey: string, tagValue: string): TransactWriteItem {
    const put = e.instanceTag.put({ id: instance.id, clientId: instance.clientId, tagKey, tagValue }).params();
    return { Put: put as TransactWriteItem['Put'] };
  }

  /** Delete index entries left over from a change too large for one transaction. */
  private async batchDelete(deletes: TransactWriteItem[]): Promise<void> {
    let pending = deletes.map((d) => ({ DeleteRequest: { Key: d.Delete!.Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_RETRIES) return; // stale entries are harmless: readers check each instance
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const batch = pending.splice(0, 25);
      const { UnprocessedItems } = await this.db.doc.send(new BatchWriteCommand({ RequestItems: { [this.db.tableName]: batch } }));
      pending.push(...((UnprocessedItems?.[this.db.tableName] ?? []) as typeof batch));
    }
  }

  private eventItems(e: Entities, instance: Instance, events: NewInstanceEvent[]): TransactWriteItem[] {
    return events.map((event) => ({
      Put: e.event.create({ ...this.toEvent(instance, event), version: 1 }).params() as TransactWriteItem['Put'],
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

/** How far a backfill has come: instances visited, reads again after a racing change, where to resume (null: done). */
export interface BackfillProgress {
  instances: number;
  retried: number;
  cursor: string | null;
}

const MAX_TRANSACTION_ITEMS = 100;
const BATCH_RETRIES = 6;
/** What a background pass holds at once. */
const PASS_PAGE_SIZE = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const toItem = (instance: Instance) => instance;

type Entities = TableEntities['core'];

/** An instance item read back raw (../../db/item-pages.ts: the hot reads skip ElectroDB). */
const instanceAttributes = itemReader<Instance>(INSTANCE_ATTRIBUTES);
const readInstance = (item: Record<string, unknown>): Instance => fromItem(instanceAttributes(item));

/** Items written before tags had index entries carry `tagTerms`; nobody reads it any more. */
function fromItem(item: object): Instance {
  const { tagTerms: _derived, ...instance } = item as Instance & { tagTerms?: string[] };
  return instance;
}

/** A due entry as a pass reads it: the entry's own fields, not its keys. */
function readDueEntry(item: Record<string, unknown>): DueEntry {
  const { kind, clientId, id, dueAt } = item as unknown as DueEntry;
  return { kind, clientId, id, dueAt };
}

/** Whether an instance matches every filter of a list: an index entry only leads to candidates. */
function matchesFilters(instance: Instance, filters: InstanceFilters): boolean {
  if (filters.status && instance.status !== filters.status) return false;
  if (filters.provider && instance.provider !== filters.provider) return false;
  if (filters.type && instance.type !== filters.type) return false;
  if (filters.userId && instance.userId !== filters.userId) return false;
  if (filters.tag) {
    const at = filters.tag.indexOf('=');
    const key = at < 0 ? filters.tag : filters.tag.slice(0, at);
    if (!Object.hasOwn(instance.tags, key) || (at >= 0 && instance.tags[key] !== filters.tag.slice(at + 1))) return false;
  }
  return true;
}

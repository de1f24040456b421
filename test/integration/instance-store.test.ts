/**
 * DynamoDB-only behaviour of the instance repository: what the transaction guarantees against
 * raw items, the shape of its cursors and counters. What every adapter must do is in
 * test/contract/instance-repository.contract.ts.
 */
import { BatchWriteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { incrementBase32 } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInstanceRepository, newEventId } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { createDb, type Db } from '../../shared/db/db.ts';
import { keys } from '../../shared/db/keys.ts';
import { QuotaExceededError, ValidationError } from '../../shared/domain/errors.ts';
import type { InstanceEvent } from '../../shared/domain/events.ts';
import type { Instance } from '../../shared/domain/instance.ts';
import { transition } from '../../shared/services/instance-changes.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { makeInstance } from '../support/fakes.ts';

let table: TestTable;
let db: Db;
let store: DynamoInstanceRepository;

beforeAll(async () => {
  table = await createTestTable('instance-store');
  db = createDb({ tableName: table.tableName, client: table.client });
  store = new DynamoInstanceRepository(db);
});
afterAll(async () => {
  await deleteTestTable(table);
});

let seq = 0;
const uniqueId = (type = 'vps', name = 'web-server') => `${type}-${name}-${(seq++).toString(36).padStart(6, '0')}`;
const describeError = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : `not an error: ${JSON.stringify(e)?.slice(0, 200)}`);
const uniqueClient = (label: string) => `client-${label}-${(seq++).toString(36)}`;

async function createInstance(overrides: Partial<Instance>): Promise<Instance> {
  const instance = makeInstance({ id: uniqueId(overrides.type), ...overrides });
  await store.create(instance, { type: 'instance.created', toStatus: instance.status, actor: 'key:test', message: 'created', at: instance.createdAt });
  return instance;
}

async function allEvents(instanceId: string): Promise<InstanceEvent[]> {
  const out: InstanceEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.events(instanceId, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return out;
}

describe('a state change without its event is impossible', () => {
  it('when the event cannot be written, the instance and the counters stay as they were', async () => {
    const clientId = uniqueClient('event-fail');
    const created = await createInstance({ clientId, status: 'CONFIGURING' });
    const countersBefore = await store.counters({ clientId });

    const at = new Date('2026-01-01T00:05:00.000Z');
    const { after, event } = transition(created, 'activate', at, 'system:test', 'activate');
    // Event ids come from one monotonic ULID factory: the id the store will mint next is the
    // increment of the one we mint now. Plant an item there so the event Put's condition fails.
    const probe = newEventId(new Date(after.updatedAt));
    const predicted = probe.slice(0, 10) + incrementBase32(probe.slice(10));
    await (await db.entities()).core.event
      .create({ eventId: predicted, instanceId: created.id, clientId, type: 'planted', actor: 'test', message: 'planted', at: after.updatedAt, version: 1 })
      .go();

    await expect(store.save(created, after, [event])).rejects.toThrow();

    const stored = (await store.get(clientId, created.id))!;
    expect(stored.status).toBe('CONFIGURING');
    expect(stored.version).toBe(created.version);
    expect(stored.billableSince).toBeUndefined();
    expect((await allEvents(created.id)).map((e) => [e.type, e.eventId === predicted])).toEqual([
      ['instance.created', false],
      ['planted', true],
    ]);
    expect(await store.counters({ clientId })).toEqual(countersBefore);

    // Control: the same change with a fresh event id goes through, event and all.
    await store.save(created, after, [event]);
    expect((await store.get(clientId, created.id))!.status).toBe('READY');
    expect((await allEvents(created.id)).map((e) => e.type)).toEqual(['instance.created', 'planted', 'instance.status-changed']);
  });

  it('when the counters cannot move, neither the instance nor its event is written', async () => {
    const clientId = uniqueClient('counter-fail');
    const created = await createInstance({ clientId, status: 'CONFIGURING' });
    // ADD of a number onto a string attribute fails inside the transaction.
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          ...keys.clientStats(clientId),
          entityType: 'statistics',
          live: 'not-a-number',
          currentlyRunning: 'not-a-number',
          openRateMicrosPerHour: 'not-a-number',
          openRateSince: 'not-a-number',
        },
      }),
    );

    const { after, event } = transition(created, 'activate', new Date('2026-01-01T00:05:00.000Z'), 'system:test', 'activate');
    await expect(store.save(created, after, [event])).rejects.toThrow();

    const stored = (await store.get(clientId, created.id))!;
    expect(stored.status).toBe('CONFIGURING');
    expect(stored.version).toBe(created.version);
    expect((await allEvents(created.id)).map((e) => e.type)).toEqual(['instance.created']);
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.clientStats(clientId), ConsistentRead: true }));
    expect(Item?.currentlyRunning).toBe('not-a-number');
  });
});

describe('cursors', () => {
  it('a cursor from a status-filtered list, edited to another status, is refused or stays within the filter', async () => {
    const clientId = uniqueClient('edited');
    for (let i = 0; i < 8; i++) await createInstance({ clientId, status: i % 2 ? 'STOPPED' : 'ERROR' });
    const first = await store.list(clientId, { status: 'STOPPED' }, { limit: 2 });
    expect(first.cursor).toBeTruthy();
    const key = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString('utf8')) as Record<string, string>;
    const edited = Buffer.from(JSON.stringify({ ...key, gsi2pk: `CLIENT#${clientId}#STATUS#ERROR` })).toString('base64url');
    const result = await store.list(clientId, { status: 'STOPPED' }, { limit: 2, cursor: edited }).then(
      (page) => ({ page, error: undefined }),
      (error: unknown) => ({ page: undefined, error }),
    );
    if (result.page) {
      expect(result.page.items.every((i) => i.status === 'STOPPED')).toBe(true);
    } else {
      expect(result.error, describeError(result.error)).toBeInstanceOf(ValidationError);
    }
  });

  it('listed items carry no derived tag terms', async () => {
    const clientId = uniqueClient('terms');
    await createInstance({ clientId, tags: { project: 'x' } });
    const page = await store.list(clientId, { tag: 'project=x' }, { limit: 5 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).not.toHaveProperty('tagTerms');
  });
});

describe('counters items', () => {
  it('the quota refusal reports the live count of the counters item the condition refused', async () => {
    const clientId = uniqueClient('quota-raw');
    // More live than the limit (the limit was lowered): the refusal says so, read from the refused item.
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.clientStats(clientId), entityType: 'statistics', live: 5 } }));
    const instance = makeInstance({ id: uniqueId(), clientId });
    const error = await store.create(instance, { type: 'instance.created', actor: 'key:test', message: 'created' }, { maxLive: 3, clientName: 'Acme' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).message).toBe("Client 'Acme' already has 5 of its 3 instances; terminate one or raise maxInstances");
    expect(await store.get(clientId, instance.id)).toBeNull();
  });

  it('keeps openRateSince beyond 2^53 exact, as a 38-digit number', async () => {
    const clientId = uniqueClient('digits');
    let instance = await createInstance({ clientId, status: 'CONFIGURING', costPerHourMicros: 987_654_321 });
    const activate = transition(instance, 'activate', new Date('2026-05-01T00:00:00.123Z'), 'system:test', 'activate');
    await store.save(instance, activate.after, [activate.event]);
    instance = activate.after;
    const expected = 987_654_321n * BigInt(Date.parse(instance.billableSince!));
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect((await store.counters({ clientId })).openRateSince).toBe(expected);
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.clientStats(clientId), ConsistentRead: true }));
    expect(Item?.entityType).toBe('statistics');
  });
});

/**
 * Items DynamoDB reads for the commands sent through `db` (ScannedCount of queries, items of
 * gets and batch gets), and how many scans were sent: what a page costs, whatever the latency.
 */
function countReads(target: Db) {
  const tally = { items: 0, requests: 0, scans: 0 };
  target.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = (result.output ?? {}) as { ScannedCount?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
      tally.requests++;
      if (context.commandName === 'ScanCommand') tally.scans++;
      if (output.ScannedCount !== undefined) tally.items += output.ScannedCount;
      if (output.Item) tally.items++;
      if (output.Responses) for (const items of Object.values(output.Responses)) tally.items += items.length;
      return result;
    },
    { step: 'initialize', name: `countReads-${Math.random()}` },
  );
  return {
    /** Reads done while `work` runs. */
    async during<T>(work: () => Promise<T>): Promise<{ result: T; items: number; requests: number; scans: number }> {
      const before = { ...tally };
      const result = await work();
      return { result, items: tally.items - before.items, requests: tally.requests - before.requests, scans: tally.scans - before.scans };
    },
  };
}

/** Thousands of items written the way a bulk load would (BatchWriteItem), in the entities' own shapes. */
async function seed(items: Record<string, unknown>[]): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        let pending: Record<string, unknown>[] = batch;
        while (pending.length) {
          const { UnprocessedItems } = await db.doc.send(
            new BatchWriteCommand({ RequestItems: { [db.tableName]: pending.map((Item) => ({ PutRequest: { Item } })) } }),
          );
          pending = (UnprocessedItems?.[db.tableName] ?? []).map((request) => request.PutRequest!.Item!);
        }
      }
    }),
  );
}

describe('a page reads only what it returns', () => {
  const TOTAL = 3000;
  const clientId = uniqueClient('big');
  let reads: ReturnType<typeof countReads>;
  const made: Instance[] = [];

  beforeAll(async () => {
    reads = countReads(db);
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < TOTAL; i++) {
      const at = new Date(start + i * 1000).toISOString();
      made.push(
        makeInstance({
          id: `vps-bulk-${i.toString(36).padStart(6, '0')}`,
          clientId,
          status: i % 3 === 0 ? 'READY' : 'STOPPED',
          tags: i % 10 === 0 ? { team: 'rare', env: 'prod' } : { env: 'prod' },
          createdAt: at,
          updatedAt: at,
        }),
      );
    }
    await seed((await Promise.all(made.map((instance) => store.itemsOf(instance)))).flat());
  }, 120_000);

  it('a page of 100 out of thousands reads 100 items, and the pages after it as many', async () => {
    const first = await reads.during(() => store.list(clientId, {}, { limit: 100 }));
    expect(first.result.items).toHaveLength(100);
    expect(first.items).toBe(100);
    expect(first.scans).toBe(0);
    const second = await reads.during(() => store.list(clientId, {}, { limit: 100, cursor: first.result.cursor! }));
    expect(second.items).toBe(100);
    expect(second.result.items[0]!.id > first.result.items.at(-1)!.id).toBe(true);
  });

  it('a status page of 100 reads 100 items', async () => {
    const page = await reads.during(() => store.list(clientId, { status: 'READY' }, { limit: 100 }));
    expect(page.result.items).toHaveLength(100);
    expect(page.result.items.every((i) => i.status === 'READY')).toBe(true);
    expect(page.items).toBe(100);
  });

  it.each([
    ['a tag every instance has', { tag: 'env=prod' }],
    ['a tag one in ten has', { tag: 'team=rare' }],
    ['a tag key one in ten has', { tag: 'team' }],
    ['a type', { type: 'vps' }],
    ['a user', { userId: 'user-1' }],
  ])('a page of 100 filtered by %s reads its 100 index entries and its 100 instances, nothing else', async (_name, filters) => {
    const page = await reads.during(() => store.list(clientId, filters, { limit: 100 }));
    expect(page.result.items).toHaveLength(100);
    expect(page.items).toBe(200);
    expect(page.requests).toBe(2);
    expect(page.scans).toBe(0);
    const next = await reads.during(() => store.list(clientId, filters, { limit: 100, cursor: page.result.cursor! }));
    expect(next.items).toBe(200);
    expect(next.result.items[0]!.id > page.result.items.at(-1)!.id).toBe(true);
  });

  it('an instance with thousands of events reads a page of them, not the log', async () => {
    const instance = await createInstance({ clientId: uniqueClient('chatty') });
    const at = Date.parse(instance.createdAt);
    const { event: eventEntity } = (await db.entities()).core;
    const events = Array.from({ length: 1500 }, (_, i) => {
      const event = { instanceId: instance.id, clientId: instance.clientId, eventId: newEventId(new Date(at + i)), type: 'instance.note', actor: 'key:test', message: `note ${i}`, at: new Date(at + i).toISOString(), version: 1 };
      return eventEntity.put(event).params<{ Item: Record<string, unknown> }>().Item;
    });
    await seed(events);
    const page = await reads.during(() => store.events(instance.id, { limit: 50 }));
    expect(page.result.items).toHaveLength(50);
    expect(page.items).toBe(50);
  });
});

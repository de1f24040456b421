/**
 * InstanceStore over DynamoDB Local: optimistic concurrency, all-or-nothing state changes with
 * their events and counters, cursor pagination with filters, and the O(1) statistics counters.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { incrementBase32 } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../shared/db/db.ts';
import { DynamoInstanceRepository, newEventId } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { keys } from '../../shared/db/keys.ts';
import { ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { InstanceEvent } from '../../shared/domain/events.ts';
import { accruedCost, applyAction, type Instance } from '../../shared/domain/instance.ts';
import type { InstanceAction, InstanceStatus } from '../../shared/domain/lifecycle.ts';
import { costForDuration } from '../../shared/domain/money.ts';
import { statisticsAt } from '../../shared/domain/statistics.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { transition } from '../../shared/services/instance-changes.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { makeInstance } from '../support/fakes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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
/** A unique id of the public pattern, so tests never share instances. */
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

/** Apply an action through the store as the services do: the new state plus its event, one transaction. */
async function step(instance: Instance, action: InstanceAction, at: Date, changes: Parameters<typeof applyAction>[3] = {}): Promise<Instance> {
  const { after, event } = transition(instance, action, at, 'system:test', `${action}`, changes);
  await store.save(instance, after, [event]);
  return after;
}

describe('optimistic concurrency on save', () => {
  it('two saves from the same read: exactly one wins, the other is a 409 VersionConflictError', async () => {
    const created = await createInstance({ clientId: uniqueClient('race') });
    const before = (await store.get(created.clientId, created.id))!;
    expect(before.version).toBe(1);

    const at = new Date('2026-01-01T00:01:00.000Z');
    const reserve = transition(before, 'reserve', at, 'system:a', 'reserve');
    const retag: Instance = { ...before, tags: { team: 'b' }, updatedAt: at.toISOString(), version: before.version + 1 };
    const results = await Promise.allSettled([
      store.save(before, reserve.after, [reserve.event]),
      store.save(before, retag, [{ type: 'instance.updated', actor: 'key:b', message: 'retag', data: { tags: { team: 'b' } } }]),
    ]);

    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(VersionConflictError);
    expect((rejected[0]!.reason as VersionConflictError).status).toBe(409);
    expect((rejected[0]!.reason as VersionConflictError).code).toBe('VERSION_CONFLICT');

    const reserveWon = results[0]!.status === 'fulfilled';
    const stored = (await store.get(created.clientId, created.id))!;
    expect(stored.version).toBe(before.version + 1);
    if (reserveWon) {
      expect(stored.status).toBe('PROVISIONING');
      expect(stored.tags).toEqual({});
    } else {
      expect(stored.status).toBe('PENDING');
      expect(stored.tags).toEqual({ team: 'b' });
    }

    const events = await allEvents(created.id);
    expect(events.map((e) => e.type)).toEqual(['instance.created', reserveWon ? 'instance.status-changed' : 'instance.updated']);
  });

  it('a save from a stale read is refused even when nobody races at that moment', async () => {
    const created = await createInstance({ clientId: uniqueClient('stale') });
    const v2 = await step(created, 'reserve', new Date('2026-01-01T00:01:00.000Z'));
    const stale = { ...created, tags: { late: 'yes' }, version: 2 };
    await expect(store.save(created, stale, [{ type: 'instance.updated', actor: 'key:x', message: 'late' }])).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    const stored = (await store.get(created.clientId, created.id))!;
    expect(stored).toMatchObject({ status: 'PROVISIONING', version: v2.version, tags: {} });
    expect((await allEvents(created.id)).map((e) => e.type)).toEqual(['instance.created', 'instance.status-changed']);
  });
});

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
    await db.entities.entities.event
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

describe('list', () => {
  const clientId = uniqueClient('list');
  const otherClientId = uniqueClient('list-other');
  const STATUSES: InstanceStatus[] = ['PENDING', 'PROVISIONING', 'STOPPED', 'ERROR'];
  const TYPES = ['vps', 'gpu', 'cpu', 'worker'] as const;
  const made: Instance[] = [];

  const tagsFor = (i: number): Record<string, string> => {
    switch (i % 6) {
      case 0:
        return { project: 'x' };
      case 1:
        return { project: 'y', owner: 'x' };
      case 2:
        return { 'project-old': 'x' };
      case 3:
        return { note: 'project=x' };
      default:
        return {};
    }
  };

  beforeAll(async () => {
    const specs = Array.from({ length: 250 }, (_, i) =>
      makeInstance({
        id: `${TYPES[i % 4]}-node-${i}-${i.toString(36).padStart(6, '0')}`,
        clientId,
        userId: i % 10 === 0 ? 'user-a' : 'user-b',
        type: TYPES[i % 4]!,
        provider: i % 3 === 0 ? 'AWS' : 'LOCAL',
        status: STATUSES[i % 4]!,
        tags: tagsFor(i),
        createdAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString(),
        updatedAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString(),
      }),
    );
    for (let start = 0; start < specs.length; start += 25) {
      const batch = specs.slice(start, start + 25);
      await Promise.all(batch.map((instance) => store.create(instance, { type: 'instance.created', actor: 'key:test', message: 'created' })));
      made.push(...batch);
    }
    // Noise in another client's partition, matching every filter: must never show up.
    await store.create(makeInstance({ id: uniqueId(), clientId: otherClientId, provider: 'AWS', tags: { project: 'x' }, userId: 'user-a' }), {
      type: 'instance.created',
      actor: 'key:test',
      message: 'created',
    });
  }, 120_000);

  async function collect(filters: Parameters<DynamoInstanceRepository['list']>[1], limit: number) {
    const ids: string[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const page = await store.list(clientId, filters, { limit, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((i) => i.id));
      cursors.push(page.cursor);
      if (!page.cursor) break;
      cursor = page.cursor;
    }
    return { ids, cursors };
  }

  const idsWhere = (predicate: (i: Instance) => boolean) => made.filter(predicate).map((i) => i.id).sort();

  it('created all 250 and counted them', async () => {
    expect(made).toHaveLength(250);
    const counters = await store.counters({ clientId });
    expect(counters.totalProvisioned).toBe(250);
    expect(counters.live).toBe(250);
  });

  it('pages of 100 return every id exactly once and end with a null cursor', async () => {
    const { ids, cursors } = await collect({}, 100);
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect([...ids].sort()).toEqual(idsWhere(() => true));
    expect(cursors.at(-1)).toBeNull();
    expect(cursors.slice(0, -1).every((c) => typeof c === 'string')).toBe(true);
    expect(cursors.length).toBeLessThanOrEqual(4);
  });

  it('pages of 7 return every id exactly once', async () => {
    const { ids, cursors } = await collect({}, 7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(idsWhere(() => true));
    expect(cursors.at(-1)).toBeNull();
    expect(cursors.length).toBeGreaterThanOrEqual(36);
  });

  it.each([
    ['status', { status: 'STOPPED' as const }, (i: Instance) => i.status === 'STOPPED'],
    ['provider', { provider: 'AWS' as const }, (i: Instance) => i.provider === 'AWS'],
    ['type', { type: 'gpu' }, (i: Instance) => i.type === 'gpu'],
    ['userId', { userId: 'user-a' }, (i: Instance) => i.userId === 'user-a'],
    ['tag key=value', { tag: 'project=x' }, (i: Instance) => i.tags.project === 'x'],
    ['tag key', { tag: 'project' }, (i: Instance) => 'project' in i.tags],
    ['tag value of another key', { tag: 'owner=x' }, (i: Instance) => i.tags.owner === 'x'],
    [
      'status + provider + tag',
      { status: 'PENDING' as const, provider: 'AWS' as const, tag: 'project' },
      (i: Instance) => i.status === 'PENDING' && i.provider === 'AWS' && 'project' in i.tags,
    ],
  ])('filter by %s returns exactly the matching instances, over pages', async (_name, filters, predicate) => {
    const expected = idsWhere(predicate);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(250);
    for (const limit of [100, 7]) {
      const { ids, cursors } = await collect(filters, limit);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(expected);
      expect(cursors.at(-1)).toBeNull();
    }
  });

  it('a filter that matches nothing returns an empty page and no cursor', async () => {
    const page = await store.list(clientId, { tag: 'no-such-tag' }, { limit: 100 });
    expect(page).toEqual({ items: [], cursor: null });
  });

  it('listed instances come back as stored, without the derived tag terms', async () => {
    const page = await store.list(clientId, { tag: 'project=y' }, { limit: 1 });
    const first = page.items[0]!;
    expect(first).not.toHaveProperty('tagTerms');
    // The stored record round-trips; `entityType` is the table's bookkeeping (presenters drop it).
    const { entityType: _entityType, ...rest } = first as Instance & { entityType?: string };
    expect(rest).toEqual(made.find((i) => i.id === first.id));
  });

  it.each([
    ['garbage', 'not-a-cursor!!'],
    ['valid base64 but not JSON', Buffer.from('{{{').toString('base64url')],
    ['JSON key of another partition', Buffer.from(JSON.stringify({ pk: `CLIENT#${otherClientId}`, sk: 'INSTANCE#x' })).toString('base64url')],
    ['JSON with no key attributes', Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64url')],
  ])('a tampered cursor (%s) is a 400 ValidationError', async (_name, cursor) => {
    const error = await store.list(clientId, {}, { limit: 10, cursor }).catch((e: unknown) => e);
    expect(error, describeError(error)).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
  });

  it('a cursor from a status-filtered list, edited to another status, is refused or stays within the filter', async () => {
    const first = await store.list(clientId, { status: 'STOPPED' }, { limit: 5 });
    expect(first.cursor).toBeTruthy();
    const key = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString('utf8')) as Record<string, string>;
    const edited = Buffer.from(JSON.stringify({ ...key, gsi2pk: `CLIENT#${clientId}#STATUS#ERROR` })).toString('base64url');
    const result = await store.list(clientId, { status: 'STOPPED' }, { limit: 5, cursor: edited }).then(
      (page) => ({ page, error: undefined }),
      (error: unknown) => ({ page: undefined, error }),
    );
    if (result.page) {
      expect(result.page.items.every((i) => i.status === 'STOPPED')).toBe(true);
    } else {
      expect(result.error, describeError(result.error)).toBeInstanceOf(ValidationError);
    }
  });
});

describe('statistics counters', () => {
  it('a full life ends with live 0, running 0, and total cost equal to the accrued micros', async () => {
    const clientId = uniqueClient('life');
    const clock = new ManualClock(new Date('2026-03-01T10:00:00.000Z'));
    let instance = await createInstance({
      clientId,
      userId: 'user-life',
      costPerHourMicros: 450_001,
      provider: 'AWS',
      type: 'gpu',
      instanceType: 'g4dn.xlarge',
      createdAt: clock.now().toISOString(),
    });
    let c = await store.counters({ clientId });
    expect(statisticsAt(c, clock.now())).toMatchObject({ totalProvisioned: 1, live: 1, currentlyRunning: 0, totalCostMicros: 0 });

    clock.advance(MINUTE);
    instance = await step(instance, 'reserve', clock.now());
    clock.advance(2 * MINUTE);
    instance = await step(instance, 'launched', clock.now(), { providerInstanceId: 'i-0abc' });
    clock.advance(MINUTE);
    instance = await step(instance, 'activate', clock.now());
    const activatedAt = clock.now();
    expect(instance.billableSince).toBe(activatedAt.toISOString());

    c = await store.counters({ clientId });
    clock.advance(17 * MINUTE + 333);
    expect(statisticsAt(c, clock.now())).toMatchObject({ currentlyRunning: 1, live: 1, totalCostMicros: accruedCost(instance, clock.now()) });

    clock.advance(HOUR + 12_345);
    instance = await step(instance, 'terminate', clock.now());
    expect(instance.billableSince).toBeUndefined();
    const finalCost = costForDuration(450_001, clock.now().getTime() - activatedAt.getTime());
    expect(instance.accruedCostMicros).toBe(finalCost);
    clock.advance(30_000);
    instance = await step(instance, 'terminated', clock.now());
    expect(instance.status).toBe('TERMINATED');

    clock.advance(5 * HOUR); // nothing accrues after the end
    for (const scope of [{ clientId }, { clientId, userId: 'user-life' }]) {
      const stats = statisticsAt(await store.counters(scope), clock.now());
      expect(stats).toEqual({
        totalProvisioned: 1,
        currentlyRunning: 0,
        live: 0,
        totalCostMicros: instance.accruedCostMicros,
        finishedCount: 1,
        averageDurationMs: Date.parse(instance.terminatedAt!) - Date.parse(instance.createdAt),
        averageCostMicros: instance.accruedCostMicros,
        providerBreakdown: { AWS: 1 },
        instanceTypeBreakdown: { gpu: 1 },
      });
    }
    const raw = await store.counters({ clientId });
    expect(raw.openRateMicrosPerHour).toBe(0);
    expect(raw.openRateSince).toBe(0n);
  });

  it('three instances billing at different rates: statisticsAt(now) = Σ accruedCost(instance, now) within 1 micro each', async () => {
    const clientId = uniqueClient('rates');
    const clock = new ManualClock(new Date('2026-04-01T00:00:00.000Z'));
    const up = async (rate: number) => {
      let i = await createInstance({ clientId, costPerHourMicros: rate, createdAt: clock.now().toISOString() });
      i = await step(i, 'reserve', clock.now());
      i = await step(i, 'launched', clock.now());
      clock.advance(1_234);
      return step(i, 'activate', clock.now());
    };
    let a = await up(450_000);
    clock.advance(7 * MINUTE + 13_001);
    let b = await up(3_060_001);
    clock.advance(3 * MINUTE + 999);
    let c = await up(123_457);

    const check = async () => {
      const stats = statisticsAt(await store.counters({ clientId }), clock.now());
      const expected = [a, b, c].reduce((sum, i) => sum + accruedCost(i, clock.now()), 0);
      expect(Math.abs(stats.totalCostMicros - expected)).toBeLessThanOrEqual(3);
      expect(stats.currentlyRunning).toBe([a, b, c].filter((i) => i.status === 'READY' || i.status === 'RUNNING').length);
      return stats;
    };

    clock.advance(41 * MINUTE + 7);
    await check();

    // b stops (billing closes at STOPPED) and starts again (billing reopens at READY).
    b = await step(b, 'stop', clock.now());
    clock.advance(2 * MINUTE + 1);
    b = await step(b, 'stopped', clock.now());
    clock.advance(30 * MINUTE);
    await check();
    b = await step(b, 'start', clock.now());
    clock.advance(45_000);
    b = await step(b, 'started', clock.now());
    // c reboots (billable throughout) and a runs a task.
    c = await step(c, 'reboot', clock.now());
    clock.advance(9_999);
    c = await step(c, 'rebooted', clock.now());
    a = await step(a, 'startTask', clock.now(), { taskId: 'task-1' });
    clock.advance(3 * HOUR + 17);
    const stats = await check();
    expect(stats.live).toBe(3);
    expect(stats.totalProvisioned).toBe(3);

    // a fails: its period closes into the closed cost.
    a = await step(a, 'fail', clock.now(), { errorMessage: 'gone' });
    clock.advance(10 * HOUR);
    await check();
    expect(stats.totalCostMicros).toBeGreaterThan(0);
  });
});

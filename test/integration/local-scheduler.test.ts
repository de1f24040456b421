/**
 * LocalScheduler over DynamoDB Local: schedules live in the table, fire once when due (never
 * before), move when replaced, vanish when cancelled, fire once across runtimes, and survive
 * a runtime that was down when they came due. Each test gets its own table: the due items share
 * one partition, and a tick fires everything due in it.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalScheduler } from '../../infra/local/local-scheduler.ts';
import { createDb, type Db } from '../../shared/db/db.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { deadlineScheduleName } from '../../shared/services/schedule-names.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';

const MINUTE = 60_000;
/** Long enough that only the explicit tick() calls (and the one at start) poll. */
const IDLE = 60 * MINUTE;

let table: TestTable;
let db: Db;
let clock: ManualClock;
const started: LocalScheduler[] = [];

beforeEach(async () => {
  table = await createTestTable('local-scheduler');
  db = createDb({ tableName: table.tableName, client: table.client });
  clock = new ManualClock(new Date('2026-01-01T00:00:00.000Z'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  await deleteTestTable(table);
});

type Fired = Array<Record<string, string>>;
function startScheduler(fired: Fired, options: { intervalMs?: number; fire?: (p: Record<string, string>) => Promise<void> } = {}) {
  const scheduler = new LocalScheduler(db, { log: () => undefined });
  scheduler.start(options.fire ?? (async (payload) => void fired.push(payload)), { intervalMs: options.intervalMs ?? IDLE, clock });
  started.push(scheduler);
  return scheduler;
}

async function scheduleItems() {
  const result = await db.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'SCHEDULE' } }),
  );
  return result.Items ?? [];
}

const at = (ms: number) => new Date(clock.now().getTime() + ms);
const name = deadlineScheduleName('vps-web-server-abc123');
const payload = { instanceId: 'vps-web-server-abc123' };

describe('LocalScheduler', () => {
  it('fires once exactly when due, not before, and then forgets the schedule', async () => {
    const fired: Fired = [];
    const scheduler = startScheduler(fired);
    await scheduler.scheduleOnce({ name, at: at(5 * MINUTE), payload });

    clock.advance(5 * MINUTE - 1);
    expect(await scheduler.tick()).toBe(0);
    expect(fired).toEqual([]);

    clock.advance(1);
    expect(await scheduler.tick()).toBe(1);
    expect(fired).toEqual([payload]);

    clock.advance(MINUTE);
    expect(await scheduler.tick()).toBe(0);
    expect(fired).toHaveLength(1);
    expect(await scheduleItems()).toEqual([]);
    // Cancelling what already fired is a success.
    await scheduler.cancel(name);
  });

  it('replacing moves the schedule (both later and earlier) and carries the new payload', async () => {
    const fired: Fired = [];
    const scheduler = startScheduler(fired);
    await scheduler.scheduleOnce({ name, at: at(5 * MINUTE), payload });
    await scheduler.scheduleOnce({ name, at: at(10 * MINUTE), payload: { ...payload, extended: 'yes' } });
    expect(await scheduleItems()).toHaveLength(1);

    clock.advance(5 * MINUTE);
    expect(await scheduler.tick()).toBe(0);
    clock.advance(5 * MINUTE);
    expect(await scheduler.tick()).toBe(1);
    expect(fired).toEqual([{ ...payload, extended: 'yes' }]);

    // Earlier, and the same time again (overwrites in place).
    await scheduler.scheduleOnce({ name, at: at(30 * MINUTE), payload });
    await scheduler.scheduleOnce({ name, at: at(MINUTE), payload: { ...payload, n: '1' } });
    await scheduler.scheduleOnce({ name, at: at(MINUTE), payload: { ...payload, n: '2' } });
    expect(await scheduleItems()).toHaveLength(1);
    clock.advance(MINUTE);
    expect(await scheduler.tick()).toBe(1);
    clock.advance(30 * MINUTE);
    expect(await scheduler.tick()).toBe(0);
    expect(fired).toEqual([{ ...payload, extended: 'yes' }, { ...payload, n: '2' }]);
  });

  it('cancelling prevents firing, and cancelling a missing schedule succeeds', async () => {
    const fired: Fired = [];
    const scheduler = startScheduler(fired);
    await scheduler.cancel('never-scheduled');
    await scheduler.scheduleOnce({ name, at: at(MINUTE), payload });
    await scheduler.scheduleOnce({ name: 'other', at: at(MINUTE), payload: { instanceId: 'other' } });
    await scheduler.cancel(name);
    await scheduler.cancel(name);

    clock.advance(2 * MINUTE);
    expect(await scheduler.tick()).toBe(1);
    expect(fired).toEqual([{ instanceId: 'other' }]);
  });

  it('two schedulers on the same table fire each schedule once', async () => {
    const fired: Fired = [];
    const a = startScheduler(fired);
    const b = startScheduler(fired);
    const names = Array.from({ length: 10 }, (_, i) => `terminate-vps-n${i}-abc123`);
    await Promise.all(names.map((n, i) => a.scheduleOnce({ name: n, at: at(MINUTE + i), payload: { n } })));

    clock.advance(2 * MINUTE);
    const counts = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(10);
    expect(fired.map((p) => p.n).sort()).toEqual([...names].sort());
  });

  it('a schedule that came due while no scheduler ran fires on start', async () => {
    await new LocalScheduler(db).scheduleOnce({ name, at: at(MINUTE), payload });
    clock.advance(10 * MINUTE);

    const fired: Fired = [];
    let resolveFired: () => void;
    const firedOnce = new Promise<void>((resolve) => (resolveFired = resolve));
    startScheduler(fired, {
      intervalMs: 20,
      fire: async (p) => {
        fired.push(p);
        resolveFired();
      },
    });
    await firedOnce;
    await new Promise((resolve) => setTimeout(resolve, 100)); // several more polls
    expect(fired).toEqual([payload]);
  });

  it('a fire that throws is logged and not retried', async () => {
    const logged: string[] = [];
    const scheduler = new LocalScheduler(db, { log: (m) => logged.push(m) });
    let calls = 0;
    scheduler.start(
      async () => {
        calls++;
        throw new Error('provider down');
      },
      { intervalMs: IDLE, clock },
    );
    started.push(scheduler);
    await scheduler.scheduleOnce({ name, at: at(MINUTE), payload });
    clock.advance(MINUTE);
    expect(await scheduler.tick()).toBe(1);
    expect(await scheduler.tick()).toBe(0);
    expect(calls).toBe(1);
    expect(logged).toEqual([expect.stringContaining('provider down')]);
  });

  it('fires at once a schedule that came due while a tick was firing others, instead of at the next poll', async () => {
    const fired: string[] = [];
    let bothFired: () => void;
    const done = new Promise<void>((resolve) => (bothFired = resolve));
    // Made before the scheduler starts: its first tick finds them, with only `first` due.
    await new LocalScheduler(db).scheduleOnce({ name: 'first', at: clock.now(), payload: { which: 'first' } });
    await new LocalScheduler(db).scheduleOnce({ name: 'second', at: at(100), payload: { which: 'second' } });
    startScheduler([], {
      fire: async ({ which }) => {
        fired.push(which!);
        // Firing `first` takes long enough that `second` is due before the tick ends.
        if (which === 'first') clock.advance(200);
        if (fired.length === 2) bothFired();
      },
    });
    // IDLE is an hour: only a tick brought forward can fire `second` before the test times out.
    await done;
    expect(fired).toEqual(['first', 'second']);
    expect(await scheduleItems()).toEqual([]);
  });

  it('wakes when the next schedule comes due, not at the next poll: one made while it sleeps, and one found at a tick', async () => {
    const POLL = 20_000;
    const firedAt: Record<string, number> = {};
    let bothFired: () => void;
    const done = new Promise<void>((resolve) => (bothFired = resolve));
    const scheduler = new LocalScheduler(db, { log: () => undefined });
    // Another runtime on the table made this one before the scheduler started.
    const foundAtTick = new Date(Date.now() + 300);
    await new LocalScheduler(db).scheduleOnce({ name: 'found-at-tick', at: foundAtTick, payload: { which: 'found-at-tick' } });
    scheduler.start(
      async (p) => {
        firedAt[p.which!] = Date.now();
        if (Object.keys(firedAt).length === 2) bothFired();
      },
      { intervalMs: POLL },
    );
    started.push(scheduler);
    const madeHere = new Date(Date.now() + 150);
    await scheduler.scheduleOnce({ name: 'made-here', at: madeHere, payload: { which: 'made-here' } });

    await done;
    // Due, and long before the next poll would have come (a failed tick still leaves the poll).
    expect(firedAt['made-here']! - madeHere.getTime()).toBeGreaterThanOrEqual(0);
    expect(firedAt['made-here']! - madeHere.getTime()).toBeLessThan(POLL / 2);
    expect(firedAt['found-at-tick']! - foundAtTick.getTime()).toBeGreaterThanOrEqual(0);
    expect(firedAt['found-at-tick']! - foundAtTick.getTime()).toBeLessThan(POLL / 2);
    expect(await scheduleItems()).toEqual([]);
  });
});


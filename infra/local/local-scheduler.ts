/**
 * The local runtime's EventBridge Scheduler: schedules are items in the one table, so a schedule
 * that came due while the runtime was down fires on the next start.
 *
 * Two items per schedule, always written together in one transaction:
 *   - due item    pk `SCHEDULE`,        sk `<due ISO>#<name>`: what a tick queries (sk before now);
 *   - lookup item pk `SCHEDULE#<name>`, sk `META`: where `<name>` is due now, so replace and cancel
 *     find the old due item with a consistent read.
 * Both carry a `token` that is new on every write; a change is conditional on the token it read, so
 * racing replaces, cancels and firings never leave a due item without its lookup or the reverse.
 *
 * Firing is at most once: a tick claims a due item by deleting it (and its lookup) conditionally and
 * only then calls `fire`, so two ticks or two runtimes on the table never fire it twice; if `fire`
 * throws, the error is logged and the schedule stays gone (like a delivery that exhausted its retries).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../../shared/db/db.ts';
import { TransactionConditionFailed, type TransactWriteItem, writeTransaction } from '../../shared/db/transactions.ts';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import type { ScheduleRequest, Scheduler } from '../../shared/ports/scheduler.ts';

const DUE_PK = 'SCHEDULE';
const scheduleKeys = {
  due: (dueAt: string, name: string) => ({ pk: DUE_PK, sk: `${dueAt}#${name}` }),
  lookup: (name: string) => ({ pk: `${DUE_PK}#${name}`, sk: 'META' }),
};

interface LookupItem {
  name: string;
  dueAt: string;
  token: string;
}
interface DueItem extends LookupItem {
  payload: Record<string, string>;
}

export type FireSchedule = (payload: Record<string, string>, schedule: { name: string; dueAt: string }) => Promise<void>;

/** Racing writers are retried with a fresh read; more than this many losses in a row is a bug. */
const MAX_ATTEMPTS = 10;

/** What one poll did: how many schedules fired here, and the instant it fired everything due by. */
interface Poll {
  fired: number;
  firedThrough: Date;
}

export class LocalScheduler implements Scheduler {
  private timer: NodeJS.Timeout | undefined;
  /** When the next tick is planned (ms since epoch): a schedule due sooner brings it forward. */
  private wakeAt = Number.POSITIVE_INFINITY;
  private running: { fire: FireSchedule; clock: Clock; intervalMs: number; loop: () => void } | undefined;
  private inFlight: Promise<Poll> | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: { log?: (message: string) => void } = {},
  ) {}

  async scheduleOnce(schedule: ScheduleRequest): Promise<void> {
    if (Number.isNaN(schedule.at.getTime())) throw new RangeError('Schedule time is not a valid date');
    const { name, payload } = schedule;
    const dueAt = schedule.at.toISOString();
    await this.retryOnRace(name, async (current) => {
      const token = randomUUID();
      const items: TransactWriteItem[] = [
        {
          Put: {
            TableName: this.db.tableName,
            Item: { ...scheduleKeys.lookup(name), entityType: 'scheduleLookup', name, dueAt, token },
            ...this.expectLookup(current),
          },
        },
      ];
      const newDue = scheduleKeys.due(dueAt, name);
      // Same due time: the Put below overwrites it (one transaction cannot touch an item twice).
      if (current && current.dueAt !== dueAt) {
        items.push({ Delete: { TableName: this.db.tableName, Key: scheduleKeys.due(current.dueAt, name) } });
      }
      items.push({ Put: { TableName: this.db.tableName, Item: { ...newDue, entityType: 'scheduleDue', name, dueAt, token, payload } } });
      await writeTransaction(this.db, items);
    });
    this.wakeBy(schedule.at.getTime());
  }

  async cancel(name: string): Promise<void> {
    await this.retryOnRace(name, async (current) => {
      if (!current) return;
      await writeTransaction(this.db, [
        { Delete: { TableName: this.db.tableName, Key: scheduleKeys.lookup(name), ...this.expectLookup(current) } },
        { Delete: { TableName: this.db.tableName, Key: scheduleKeys.due(current.dueAt, name) } },
      ]);
    });
  }

  /**
   * Ticks at once, then whenever the next schedule comes due, and at least every `intervalMs`
   * (a schedule written by another runtime on the table is found by then); fires what is due by
   * `clock`. A schedule made here that comes due sooner than the next tick brings the tick forward.
   */
  start(fire: FireSchedule, options: { intervalMs?: number; clock?: Clock } = {}): void {
    if (this.running) throw new Error('LocalScheduler is already started');
    const intervalMs = options.intervalMs ?? 500;
    const clock = options.clock ?? systemClock;
    const loop = () => {
      if (!this.running) return;
      this.timer = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.poll()
        // From the instant the poll fired through, not from now: a schedule that came due while
        // it ran was not fired, and must bring the next tick forward rather than wait a whole poll.
        .then(({ firedThrough }) => this.nextDueAt(firedThrough))
        .catch((error) => {
          this.log(`schedule tick failed: ${describe(error)}`);
          return undefined;
        })
        .then((nextDue) => {
          if (!this.running) return;
          // A tick planned meanwhile (a schedule made here) stands unless this one must come sooner.
          const at = Math.min(clock.now().getTime() + intervalMs, nextDue ?? Number.POSITIVE_INFINITY);
          if (!this.timer || at < this.wakeAt) this.sleepUntil(at);
        });
    };
    this.running = { fire, clock, intervalMs, loop };
    loop();
  }

  /** The next tick no later than `at` (ms since epoch). */
  private wakeBy(at: number): void {
    if (this.running && at < this.wakeAt) this.sleepUntil(at);
  }

  private sleepUntil(at: number): void {
    clearTimeout(this.timer);
    this.wakeAt = at;
    // A millisecond late rather than early: a timer may fire a little before the clock reads `at`.
    this.timer = setTimeout(this.running!.loop, Math.max(0, at - this.running!.clock.now().getTime()) + 1);
  }

  /** When the earliest schedule due after `now` comes due (ms since epoch), if any. */
  private async nextDueAt(now: Date): Promise<number | undefined> {
    const { Items } = await this.db.doc.send(
      new QueryCommand({
        TableName: this.db.tableName,
        KeyConditionExpression: 'pk = :pk AND sk > :bound',
        ExpressionAttributeValues: { ':pk': DUE_PK, ':bound': `${now.toISOString()}$` },
        Limit: 1,
      }),
    );
    const dueAt = (Items?.[0] as DueItem | undefined)?.dueAt;
    return dueAt ? Date.parse(dueAt) : undefined;
  }

  /** Stops polling and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.running = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    await this.inFlight?.catch(() => undefined);
  }

  /**
   * One poll: fires every schedule due by the clock when this poll runs, and resolves to how many
   * fired here. Polls never overlap: one asked for during another runs after it.
   */
  async tick(): Promise<number> {
    return (await this.poll()).fired;
  }

  /** A tick, and the instant it fired through. */
  private poll(): Promise<Poll> {
    if (!this.running) return Promise.reject(new Error('LocalScheduler is not started'));
    const { fire, clock } = this.running;
    const previous = this.inFlight?.catch(() => undefined) ?? Promise.resolve();
    const next: Promise<Poll> = previous
      .then(async () => {
        const firedThrough = clock.now();
        return { fired: await this.fireDue(fire, firedThrough), firedThrough };
      })
      .finally(() => {
        if (this.inFlight === next) this.inFlight = undefined;
      });
    this.inFlight = next;
    return next;
  }

  private async fireDue(fire: FireSchedule, now: Date): Promise<number> {
    let fired = 0;
    // Due times are fixed-width ISO strings, so every sk `<due>#<name>` with due ≤ now sorts below `<now>$`.
    const bound = `${now.toISOString()}$`;
    let ExclusiveStartKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.db.doc.send(
        new QueryCommand({
          TableName: this.db.tableName,
          KeyConditionExpression: 'pk = :pk AND sk < :bound',
          ExpressionAttributeValues: { ':pk': DUE_PK, ':bound': bound },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of (page.Items ?? []) as DueItem[]) {
        if (!(await this.claim(item))) continue;
        fired++;
        try {
          await fire(item.payload, { name: item.name, dueAt: item.dueAt });
        } catch (error) {
          this.log(`schedule ${item.name} (due ${item.dueAt}) failed to fire: ${describe(error)}`);
        }
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return fired;
  }

  /** Deletes the schedule if it is still this version; false when another tick or a replace/cancel won. */
  private async claim(item: DueItem): Promise<boolean> {
    try {
      await writeTransaction(this.db, [
        {
          Delete: {
            TableName: this.db.tableName,
            Key: scheduleKeys.due(item.dueAt, item.name),
            ConditionExpression: '#token = :token',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': item.token },
          },
        },
        {
          Delete: {
            TableName: this.db.tableName,
            Key: scheduleKeys.lookup(item.name),
            // A lookup missing outright must not strand the due item forever.
            ConditionExpression: 'attribute_not_exists(pk) OR #token = :token',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': item.token },
          },
        },
      ]);
      return true;
    } catch (error) {
      if (error instanceof TransactionConditionFailed) return false;
      throw error;
    }
  }

  private async readLookup(name: string): Promise<LookupItem | undefined> {
    const result = await this.db.doc.send(
      new GetCommand({ TableName: this.db.tableName, Key: scheduleKeys.lookup(name), ConsistentRead: true }),
    );
    return result.Item as LookupItem | undefined;
  }

  /** The condition that the lookup is still what was read (absent, or the same token). */
  private expectLookup(current: LookupItem | undefined) {
    return current
      ? { ConditionExpression: '#token = :token', ExpressionAttributeNames: { '#token': 'token' }, ExpressionAttributeValues: { ':token': current.token } }
      : { ConditionExpression: 'attribute_not_exists(pk)' };
  }

  /** Reads the lookup and runs `change` on it, again with a fresh read while racing writers win. */
  private async retryOnRace(name: string, change: (current: LookupItem | undefined) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await change(await this.readLookup(name));
        return;
      } catch (error) {
        if (!(error instanceof TransactionConditionFailed) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private log(message: string): void {
    (this.options.log ?? ((m: string) => console.error(`[scheduler] ${m}`)))(message);
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

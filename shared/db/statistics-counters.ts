import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Db } from './db.ts';
import type { TransactWriteItem } from './transactions.ts';
import { BIG_COUNTERS, type CounterDelta, type Counters, emptyCounters, SCALAR_COUNTERS } from '../domain/statistics.ts';
import { keys } from './keys.ts';

/**
 * Statistics counters are raw items: ElectroDB cannot ADD to per-provider attributes created
 * on the fly, nor carry the bigint `openRateSince` (DynamoDB numbers hold 38 digits).
 */
const PROVIDER_PREFIX = 'provider:';
const TYPE_PREFIX = 'type:';

/** An Update for one counters item that applies `delta` with ADD (creating it on first use). */
export function counterUpdate(
  tableName: string,
  key: { pk: string; sk: string },
  delta: CounterDelta,
  guard?: CounterGuard,
): TransactWriteItem | null {
  const adds: [string, number | bigint][] = [];
  for (const name of SCALAR_COUNTERS) if (delta[name] !== 0) adds.push([name, delta[name]]);
  for (const name of BIG_COUNTERS) if (delta[name] !== 0n) adds.push([name, delta[name]]);
  for (const [p, n] of Object.entries(delta.byProvider)) if (n) adds.push([PROVIDER_PREFIX + p, n]);
  for (const [t, n] of Object.entries(delta.byType)) if (n) adds.push([TYPE_PREFIX + t, n]);
  if (adds.length === 0) return null;

  const names: Record<string, string> = { '#entityType': 'entityType' };
  const values: Record<string, unknown> = { ':entityType': 'statistics' };
  const clauses = adds.map(([attr, value], i) => {
    names[`#a${i}`] = attr;
    values[`:a${i}`] = value;
    return `#a${i} :a${i}`;
  });
  const conditions: string[] = [];
  if (guard) {
    // The quotas hold under concurrent creates: the counters themselves refuse to pass a limit.
    // A quota of `max` admits an instance adding `n` while the counter is at most `max − n`.
    names['#live'] = 'live';
    values[':maxLive'] = guard.maxLive;
    conditions.push('(attribute_not_exists(#live) OR #live < :maxLive)');
    const held: [string, number | undefined, number][] = [
      ['liveVcpus', guard.maxVcpus, delta.liveVcpus],
      ['liveGpus', guard.maxGpus, delta.liveGpus],
      ['liveCostPerHourMicros', guard.maxCostPerHourMicros, delta.liveCostPerHourMicros],
    ];
    for (const [attr, max, adding] of held) {
      if (max === undefined || adding <= 0) continue;
      names[`#${attr}`] = attr;
      values[`:${attr}Room`] = max - adding;
      // A room below zero: this instance alone passes the quota, so the condition must fail even on a fresh item.
      conditions.push(max - adding >= 0 ? `(attribute_not_exists(#${attr}) OR #${attr} <= :${attr}Room)` : `#${attr} <= :${attr}Room`);
    }
  }
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `SET #entityType = :entityType ADD ${clauses.join(', ')}`,
      // ALL_OLD: a refusal can say how many live instances the client had.
      ...(guard ? { ConditionExpression: conditions.join(' AND '), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

export function counterUpdates(
  tableName: string,
  scope: { clientId: string; userId?: string },
  delta: CounterDelta,
  guard?: CounterGuard,
): TransactWriteItem[] {
  const items = [counterUpdate(tableName, keys.clientStats(scope.clientId), delta, guard)];
  if (scope.userId) items.push(counterUpdate(tableName, keys.userStats(scope.clientId, scope.userId), delta));
  return items.filter((i): i is TransactWriteItem => i !== null);
}

/** The quotas a client's counters item guards on create. */
export interface CounterGuard {
  maxLive: number;
  maxVcpus?: number;
  maxGpus?: number;
  maxCostPerHourMicros?: number;
}

/** The live count of a counters item read raw (a refused transaction's old image). */
export const liveOf = (item: Record<string, unknown>): number => toCounters(item).live;

/** A counters item read raw (a refused transaction's old image) as counters. */
export const countersOfItem = (item: Record<string, unknown>): Counters => toCounters(item);

export async function readCounters(db: Db, scope: { clientId: string; userId?: string }): Promise<Counters> {
  const key = scope.userId ? keys.userStats(scope.clientId, scope.userId) : keys.clientStats(scope.clientId);
  // A raw read with wrapNumbers keeps the 38-digit counters exact instead of failing past 2^53.
  const { Item } = await db.client.send(new GetItemCommand({ TableName: db.tableName, Key: marshall(key), ConsistentRead: true }));
  return Item ? toCounters(unmarshall(Item, { wrapNumbers: true })) : emptyCounters();
}

function toCounters(item: Record<string, unknown>): Counters {
  const c = emptyCounters();
  const num = (v: unknown) => (v instanceof NumberValue ? Number(v.value) : Number(v ?? 0));
  for (const name of SCALAR_COUNTERS) c[name] = num(item[name]);
  for (const name of BIG_COUNTERS) {
    const value = item[name];
    c[name] = value instanceof NumberValue ? BigInt(value.value) : BigInt(String(value ?? 0));
  }
  for (const [attr, value] of Object.entries(item)) {
    if (attr.startsWith(PROVIDER_PREFIX)) c.byProvider[attr.slice(PROVIDER_PREFIX.length)] = num(value);
    if (attr.startsWith(TYPE_PREFIX)) c.byType[attr.slice(TYPE_PREFIX.length)] = num(value);
  }
  return c;
}

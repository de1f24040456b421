import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Db } from './db.ts';

export type TransactWriteItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Which item of a cancelled transaction failed its condition, so callers can name the cause;
 * `items` holds, by index, the item as it stood when its write asked for it
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD).
 */
export class TransactionConditionFailed extends Error {
  constructor(
    readonly failedIndexes: number[],
    readonly items: Record<number, Record<string, unknown>> = {},
  ) {
    super(`Transaction condition failed on item(s) ${failedIndexes.join(', ')}`);
  }
}

/** Other transactions kept touching the same items (the shared counters) through every retry. */
export class TransactionContention extends Error {}

const MAX_ATTEMPTS = 6;

/**
 * All-or-nothing write. Every state change also moves the client's counters, so two changes to
 * different instances of one client can collide (TransactionConflict); those are retried with
 * jittered backoff, which is safe because a cancelled transaction applied nothing. A failed
 * condition is never retried: it means someone else won the race.
 */
export async function writeTransaction(db: Db, items: TransactWriteItem[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const failed = reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
      if (failed.length > 0) {
        const items: Record<number, Record<string, unknown>> = {};
        for (const index of failed) {
          const item = reasons[index]?.Item;
          // Numbers stay wrapped: a counters item holds 38-digit values.
          if (item) items[index] = unmarshall(item, { wrapNumbers: true });
        }
        throw new TransactionConditionFailed(failed, items);
      }
      const contended = reasons.some((reason) => reason.Code === 'TransactionConflict');
      if (!contended) throw error;
      if (attempt >= MAX_ATTEMPTS) throw new TransactionContention('The items are busy with other changes; retry shortly');
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ElectroDB wraps the SDK's ConditionalCheckFailedException; look through the causes. */
export function isConditionFailure(error: unknown): boolean {
  for (let e = error as { name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.name === 'ConditionalCheckFailedException') return true;
  }
  return false;
}

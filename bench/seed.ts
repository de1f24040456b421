/** Seeding and read counting for the benches that load DynamoDB Local with many instances. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../shared/db/db.ts';

/** Items DynamoDB reads for what goes through `client`: ScannedCount of queries, items of gets. */
export function countReads(client: DynamoDBClient) {
  const tally = { items: 0, scans: 0, requests: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = (result.output ?? {}) as { ScannedCount?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
      if (context.commandName === 'ScanCommand') tally.scans++;
      if (output.ScannedCount !== undefined || output.Item || output.Responses) tally.requests++;
      tally.items += output.ScannedCount ?? 0;
      if (output.Item) tally.items++;
      for (const items of Object.values(output.Responses ?? {})) tally.items += items.length;
      return result;
    },
    { step: 'initialize', name: 'benchCountReads' },
  );
  return tally;
}

/** Put `items` with BatchWriteItem, 25 at a time, 16 batches in flight, retrying what comes back unprocessed. */
export async function batchWrite(db: Db, items: Record<string, unknown>[]): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let batch = batches.pop(); batch; batch = batches.pop()) {
        let pending = batch;
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

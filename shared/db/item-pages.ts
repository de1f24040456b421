import { BatchGetCommand, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidCursorError } from '../domain/errors.ts';
import type { Page } from '../ports/page.ts';
import type { Db } from './db.ts';
import { filled, keyPrefixOf } from './keys.ts';
import { paged } from './pagination.ts';

/**
 * The hot reads (an API key, one instance, a page of instances) run raw commands over the key
 * templates (./keys.ts) and turn items back into records by picking the entity's attributes
 * (./attributes.ts), instead of going through ElectroDB: the same answer for a tenth of the work,
 * which is most of what a page of 100 costs above the query itself, and a cold start that only
 * reads never loads ElectroDB.
 */

/** Builds the record of an item: its entity's attributes, without keys or index fields. */
export function itemReader<T>(attributes: Record<string, unknown>): (item: Record<string, unknown>) => T {
  const names = Object.keys(attributes);
  return (item) => {
    const record: Record<string, unknown> = {};
    for (const name of names) if (item[name] !== undefined) record[name] = item[name];
    return record as T;
  };
}

/** Cursors as ElectroDB writes them (base64url of the last key's JSON): pages handed out before stay valid. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

export function decodeCursor(cursor: string | null | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursorError();
  }
  // Every key a page ends on holds the table's key (an index's adds its own), all strings.
  const parts = key as Record<string, unknown>;
  if (typeof key !== 'object' || key === null || Array.isArray(key) || typeof parts.pk !== 'string' || typeof parts.sk !== 'string') throw invalidCursorError();
  if (Object.values(parts).some((v) => typeof v !== 'string')) throw invalidCursorError();
  return parts;
}

/** Where a raw query reads: the table's own keys, or a secondary index's. */
interface QueryTemplate {
  index?: 'gsi1' | 'gsi2' | 'gsi3';
  pk: string;
  sk: string;
}

/**
 * The Query of one partition of the table or of an index (./keys.ts names the index), as
 * ElectroDB's `entity.query.<index>(…).params()` builds it: `values` fill the partition key and
 * as much of the sort key as they give (a prefix), `below` bounds the sort key from above, and
 * `equal` keeps only items whose attributes hold those values.
 */
export function partitionQuery(
  db: Db,
  template: QueryTemplate,
  values: Record<string, string>,
  options: { below?: string; equal?: Record<string, string | undefined> } = {},
): QueryCommandInput {
  const fields = template.index ? { pk: `${template.index}pk`, sk: `${template.index}sk` } : { pk: 'pk', sk: 'sk' };
  const prefix = keyPrefixOf(template.sk, values);
  const names: Record<string, string> = { '#pk': fields.pk };
  const expressionValues: Record<string, string> = { ':pk': filled(template.pk, values) };
  let condition = '#pk = :pk';
  if (options.below !== undefined) {
    condition += ' AND #sk < :below';
    names['#sk'] = fields.sk;
    expressionValues[':below'] = options.below;
  } else if (prefix) {
    condition += ' AND begins_with(#sk, :prefix)';
    names['#sk'] = fields.sk;
    expressionValues[':prefix'] = prefix;
  }
  const filters: string[] = [];
  for (const [name, value] of Object.entries(options.equal ?? {})) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    expressionValues[`:${name}`] = value;
    filters.push(`#${name} = :${name}`);
  }
  return {
    TableName: db.tableName,
    ...(template.index ? { IndexName: template.index } : {}),
    KeyConditionExpression: condition,
    ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: expressionValues,
  };
}

/** One item by key, consistently read. */
export async function getItem<T>(db: Db, key: { pk: string; sk: string }, read: (item: Record<string, unknown>) => T): Promise<T | null> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }));
  return Item ? read(Item) : null;
}

/**
 * One page of `page.limit` records. Every request asks DynamoDB for no more than the page still
 * needs (`Limit`); with a filter, requests go on from where the last stopped until the page is
 * full or the items end. The cursor is the last key read, so the next page starts right after it.
 */
export async function queryPage<T>(
  db: Db,
  params: object,
  page: { limit: number; cursor?: string | null },
  read: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const items: T[] = [];
  let startKey = decodeCursor(page.cursor);
  return paged<T>(async () => {
    do {
      const input = { ...(params as QueryCommandInput), Limit: page.limit - items.length, ExclusiveStartKey: startKey };
      const result = await db.doc.send(new QueryCommand(input));
      for (const item of result.Items ?? []) items.push(read(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey && items.length < page.limit);
    return { data: items, cursor: encodeCursor(startKey) };
  });
}

/** Every page of a query, `pageSize` records at a time, as the background passes walk an index. */
export async function* queryPages<T>(db: Db, params: object, pageSize: number, read: (item: Record<string, unknown>) => T): AsyncIterable<T[]> {
  let cursor: string | null = null;
  do {
    const page: Page<T> = await queryPage(db, params, { limit: pageSize, cursor }, read);
    if (page.items.length) yield page.items;
    cursor = page.cursor;
  } while (cursor);
}

const BATCH_GET_ATTEMPTS = 5;

/**
 * Items by key (at most 100), consistently read with one BatchGetItem; keys DynamoDB leaves
 * unprocessed are asked again with backoff. Items come back in no particular order.
 */
export async function batchGetItems<T>(db: Db, keys: Record<string, string>[], read: (item: Record<string, unknown>) => T): Promise<T[]> {
  const found: T[] = [];
  let pending = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= BATCH_GET_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} read(s) unprocessed after ${BATCH_GET_ATTEMPTS} attempts`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    const { Responses, UnprocessedKeys } = await db.doc.send(
      new BatchGetCommand({ RequestItems: { [db.tableName]: { Keys: pending, ConsistentRead: true } } }),
    );
    for (const item of Responses?.[db.tableName] ?? []) found.push(read(item));
    pending = (UnprocessedKeys?.[db.tableName]?.Keys ?? []) as Record<string, string>[];
  }
  return found;
}

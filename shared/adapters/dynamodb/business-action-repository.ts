import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import type { BusinessAction, BusinessActionFilter } from '../../domain/business-actions.ts';
import { invalidCursorError } from '../../domain/errors.ts';
import type { Db } from '../../db/db.ts';
import { KEY_TEMPLATES, keyOf } from '../../db/keys.ts';
import type { BusinessActionRepository } from '../../ports/business-action-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';

const ACTION_PREFIX = 'ACTION#';

/**
 * The business-action log on the table: one client's through its partition (`ACTION#<ulid>`),
 * every client's through gsi1 (`ACTIONS`), newest first. from/to narrow the sort key (ids are
 * ULIDs, time first); action and actor are filters. No Scan.
 */
export class DynamoBusinessActionRepository implements BusinessActionRepository {
  constructor(private readonly db: Db) {}

  async list(filter: BusinessActionFilter, page: PageRequest): Promise<Page<BusinessAction>> {
    const own = filter.clientId !== undefined;
    const prefix = own ? ACTION_PREFIX : '';
    // '0' is the lowest ULID character, and a key condition may not compare with an empty string.
    const lo = `${prefix}${filter.from ? encodeTime(Math.max(0, Date.parse(filter.from)), 10) : '0'}`;
    const hi = `${prefix}${filter.to ? encodeTime(Math.max(0, Date.parse(filter.to) - 1), 10) : ''}~`;
    const pk = own ? keyOf(KEY_TEMPLATES.businessAction, { clientId: filter.clientId!, actionId: 'x' }).pk : KEY_TEMPLATES.businessActions.pk;
    const names: Record<string, string> = { '#pk': own ? 'pk' : 'gsi1pk', '#sk': own ? 'sk' : 'gsi1sk' };
    const values: Record<string, unknown> = { ':pk': pk, ':lo': lo, ':hi': hi };
    const filters: string[] = [];
    if (filter.action) {
      names['#action'] = 'action';
      values[':action'] = filter.action;
      values[':actionPrefix'] = `${filter.action}.`;
      filters.push('(#action = :action OR begins_with(#action, :actionPrefix))');
    }
    if (filter.actor) {
      names['#actor'] = 'actor';
      values[':actor'] = filter.actor.startsWith('key:') ? filter.actor : `key:${filter.actor}`;
      filters.push('#actor = :actor');
    }
    const list = `${own ? filter.clientId : '*'}`;
    let startKey = page.cursor ? readCursor(list, page.cursor) : undefined;
    const items: BusinessAction[] = [];
    // Each request reads at most what the page still needs, so when the page fills, the last
    // item read is the last item returned and the cursor cannot skip one.
    for (;;) {
      const input: QueryCommandInput = {
        TableName: this.db.tableName,
        ...(own ? {} : { IndexName: 'gsi1' }),
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: page.limit - items.length,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      };
      const result = await this.db.doc.send(new QueryCommand(input)).catch((error: { name?: string }) => {
        // A start key that is not one of this list's (an edited cursor) is the caller's mistake.
        if (error.name === 'ValidationException' && input.ExclusiveStartKey) readCursor(list, '');
        throw error;
      });
      for (const item of result.Items ?? []) items.push(fromItem(item));
      startKey = result.LastEvaluatedKey;
      if (!startKey || items.length >= page.limit) break;
    }
    return { items, cursor: startKey ? writeCursor(list, startKey) : null };
  }
}

function fromItem(item: Record<string, unknown>): BusinessAction {
  const { actionId, at, actor, clientId, action, target, details } = item as unknown as BusinessAction;
  return { actionId, at, actor, clientId, action, target, details: details ?? {} };
}

const writeCursor = (list: string, key: Record<string, unknown>) => Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');

function readCursor(list: string, cursor: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { l?: unknown; k?: unknown };
    if (parsed.l === list && parsed.k && typeof parsed.k === 'object') return parsed.k as Record<string, unknown>;
  } catch {
    // falls through to the refusal
  }
  throw invalidCursorError();
}

import { monotonicFactory } from 'ulid';
import type { BusinessAction, NewBusinessAction } from '../domain/business-actions.ts';
import { KEY_TEMPLATES, keyOf } from './keys.ts';
import type { TransactWriteItem } from './transactions.ts';

const nextUlid = monotonicFactory();

/** Give a business action its id (a ULID of its time, so ids sort by time) and its time. */
export function materializeAction(action: NewBusinessAction, defaultAt: string): BusinessAction {
  const at = action.at ?? defaultAt;
  return { ...action, at, actionId: nextUlid(Date.parse(at)) };
}

/**
 * The Put that writes a business action inside another write's transaction: raw, like the
 * counters, so any repository can append it to its own TransactItems. `attribute_not_exists`
 * keeps an id from ever being written twice.
 */
export function businessActionPut(tableName: string, action: BusinessAction): TransactWriteItem {
  const own = keyOf(KEY_TEMPLATES.businessAction, { clientId: action.clientId, actionId: action.actionId });
  const all = keyOf(KEY_TEMPLATES.businessActions, { actionId: action.actionId });
  return {
    Put: {
      TableName: tableName,
      Item: { ...own, gsi1pk: all.pk, gsi1sk: all.sk, entityType: 'businessAction', version: 1, ...action },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** The Puts for zero or one action: what repositories spread into their transactions. */
export const businessActionItems = (tableName: string, action: NewBusinessAction | undefined, defaultAt: string): TransactWriteItem[] =>
  action ? [businessActionPut(tableName, materializeAction(action, defaultAt))] : [];

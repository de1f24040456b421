import { describe, expect, it } from 'vitest';
import { INSTANCE_ATTRIBUTES } from '../../../shared/db/attributes.ts';
import { createDb } from '../../../shared/db/db.ts';
import { decodeCursor, encodeCursor, itemReader, partitionQuery } from '../../../shared/db/item-pages.ts';
import { KEY_TEMPLATES, keyPrefixOf } from '../../../shared/db/keys.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';
import { makeInstance } from '../../support/fakes.ts';
import { DynamoInstanceRepository } from '../../../shared/adapters/dynamodb/instance-repository.ts';

describe('page cursors', () => {
  it('are written as ElectroDB writes them, so cursors handed out before still read', () => {
    const key = { pk: 'CLIENT#c-1', sk: 'INSTANCE#vps-a', gsi2pk: 'CLIENT#c-1#STATUS#READY', gsi2sk: '2026-01-01T00:00:00.000Z#vps-a' };
    const electroDbCursor = Buffer.from(JSON.stringify(key)).toString('base64url');
    expect(encodeCursor(key)).toBe(electroDbCursor);
    expect(decodeCursor(electroDbCursor)).toEqual(key);
    expect(encodeCursor(undefined)).toBeNull();
    expect(decodeCursor(null)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'garbage!!'],
    ['JSON but not a key', Buffer.from('[1,2]').toString('base64url')],
    ['a key with a non-string part', Buffer.from('{"pk":{"S":"x"}}').toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
    ['JSON with no table key', Buffer.from('{"gsi2pk":"CLIENT#c-1"}').toString('base64url')],
  ])('refuse %s with a 400 naming the cursor', (_what, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/cursor is not valid/);
  });
});

describe('itemReader', () => {
  it("turns a stored instance item back into the instance the repository wrote, as ElectroDB's own formatting does", async () => {
    const db = createDb({ tableName: 'hangar-unit' });
    const { instance: entity } = (await db.entities()).core;
    const instance = makeInstance({ id: 'vps-a', clientId: 'c-1', tags: { env: 'prod' }, status: 'READY' });
    const [stored] = await new DynamoInstanceRepository(db).itemsOf(instance);
    const read = itemReader<Record<string, unknown>>(INSTANCE_ATTRIBUTES)(stored as Record<string, unknown>);
    const formatted = (entity as unknown as { formatResponse(r: object, i: string, c: object): { data: unknown } }).formatResponse({ Item: stored }, '', {});
    expect(read).toEqual(formatted.data);
    expect(read).not.toHaveProperty('pk');
    expect(read).not.toHaveProperty('gsi2pk');
    expect(read).toMatchObject({ id: 'vps-a', clientId: 'c-1', status: 'READY', tags: { env: 'prod' } });
  });
});

describe('keyPrefixOf', () => {
  it('fills a template up to its first missing part, as a partial sort key', () => {
    expect(keyPrefixOf(KEY_TEMPLATES.instance.sk, {})).toBe('INSTANCE#');
    expect(keyPrefixOf(KEY_TEMPLATES.instancesByStatus.sk, { provider: 'AWS' })).toBe('AWS#');
    expect(keyPrefixOf(KEY_TEMPLATES.instancesByStatus.sk, { provider: 'AWS', createdAt: '2026-01-01T00:00:00.000Z' })).toBe('AWS#2026-01-01T00:00:00.000Z#');
    expect(keyPrefixOf(KEY_TEMPLATES.instancesByClientStatus.sk, { id: 'vps-a' })).toBe('');
    expect(keyPrefixOf(KEY_TEMPLATES.instanceById.sk, {})).toBe('INSTANCE');
    expect(keyPrefixOf(KEY_TEMPLATES.instance.sk, { id: 'vps-a' })).toBe('INSTANCE#vps-a');
  });
});

describe('partitionQuery', () => {
  const db = createDb({ tableName: 'hangar-unit' });

  it("reads a client's instances: the table's partition, narrowed to the instance items", () => {
    expect(partitionQuery(db, KEY_TEMPLATES.instance, { clientId: 'c-1' })).toEqual({
      TableName: 'hangar-unit',
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': 'CLIENT#c-1', ':prefix': 'INSTANCE#' },
    });
  });

  it('reads an index partition with equality filters, leaving out the filters not given', () => {
    const query = partitionQuery(db, KEY_TEMPLATES.instancesByClientStatus, { clientId: 'c-1', status: 'READY' }, { equal: { provider: 'AWS', type: undefined, userId: 'u-1' } });
    expect(query).toEqual({
      TableName: 'hangar-unit',
      IndexName: 'gsi2',
      KeyConditionExpression: '#pk = :pk',
      FilterExpression: '#provider = :provider AND #userId = :userId',
      ExpressionAttributeNames: { '#pk': 'gsi2pk', '#provider': 'provider', '#userId': 'userId' },
      ExpressionAttributeValues: { ':pk': 'CLIENT#c-1#STATUS#READY', ':provider': 'AWS', ':userId': 'u-1' },
    });
  });

  it('bounds the sort key from above (what is due by a time)', () => {
    const query = partitionQuery(db, KEY_TEMPLATES.dueByTime, { kind: 'auto-terminate', shard: '2' }, { below: '2026-01-01T00:00:00.000Z$' });
    expect(query.IndexName).toBe('gsi3');
    expect(query.KeyConditionExpression).toBe('#pk = :pk AND #sk < :below');
    expect(query.ExpressionAttributeValues).toEqual({ ':pk': 'DUE#auto-terminate#2', ':below': '2026-01-01T00:00:00.000Z$' });
  });

  it('refuses a partition key it cannot fill: a missing part is a programming error, not an empty read', () => {
    expect(() => partitionQuery(db, KEY_TEMPLATES.instancesByTag, { clientId: 'c-1', tagKey: 'env' })).toThrow(/tagValue/);
  });
});

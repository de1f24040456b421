/**
 * Proves the DynamoDB Local harness: the shared table definition, transactions, TTL and
 * persistence across restarts all behave as the rest of Hangar expects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  JAVA_MISSING_MESSAGE,
  assertJavaAvailable,
  dynamoDbClientConfig,
  ensureTable,
  parseJavaMajorVersion,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local.ts';
import { TABLE } from '../../shared/db/table-definition.ts';
import { createTestTable, deleteTestTable } from '../support/dynamodb.ts';
import type { TestTable } from '../support/dynamodb.ts';

describe('a table created from the shared definition', () => {
  let db: TestTable;
  beforeAll(async () => {
    db = await createTestTable('harness');
  });
  afterAll(async () => {
    await deleteTestTable(db);
  });

  it('has the GSIs of the shared definition and streams with both images', async () => {
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: db.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName, keys: i.KeySchema?.map((k) => k.AttributeName), status: i.IndexStatus }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual(
      TABLE.indexes.map((i) => ({ name: i.name, keys: [i.partitionKey, i.sortKey], status: 'ACTIVE' })),
    );
    expect(indexes).toHaveLength(3);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toMatch(/^arn:aws:dynamodb:/);
  });

  it('has TTL enabled on the shared ttl attribute', async () => {
    const { TimeToLiveDescription } = await db.client.send(new DescribeTimeToLiveCommand({ TableName: db.tableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: TABLE.ttlAttribute });
  });

  it('ensureTable is idempotent', async () => {
    expect(await ensureTable(db.client, db.tableName)).toBe('exists');
    const [a, b] = await Promise.all([ensureTable(db.client, db.tableName), ensureTable(db.client, db.tableName)]);
    expect([a, b]).toEqual(['exists', 'exists']);
  });

  it('a transaction with a failing condition writes nothing', async () => {
    const write = (id: string, mustExist: string) =>
      db.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: db.tableName, Item: { pk: { S: `TX#${id}` }, sk: { S: 'META' }, version: { N: '1' } } } },
            {
              Put: {
                TableName: db.tableName,
                Item: { pk: { S: `TX#${id}` }, sk: { S: 'COUNTER' }, n: { N: '1' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              ConditionCheck: {
                TableName: db.tableName,
                Key: { pk: { S: mustExist }, sk: { S: 'META' } },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      );

    const failure = await write('a', 'GUARD#missing').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransactionCanceledException);
    expect((failure as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'None',
      'ConditionalCheckFailed',
    ]);
    for (const sk of ['META', 'COUNTER']) {
      const { Item } = await db.client.send(
        new GetItemCommand({ TableName: db.tableName, Key: { pk: { S: 'TX#a' }, sk: { S: sk } }, ConsistentRead: true }),
      );
      expect(Item).toBeUndefined();
    }

    // Control: with the guard present the same transaction commits both items.
    await db.client.send(
      new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'GUARD#present' }, sk: { S: 'META' } } }),
    );
    await write('b', 'GUARD#present');
    const { Item } = await db.client.send(
      new GetItemCommand({ TableName: db.tableName, Key: { pk: { S: 'TX#b' }, sk: { S: 'COUNTER' } }, ConsistentRead: true }),
    );
    expect(Item?.n).toEqual({ N: '1' });
  });

  it('is shared across credentials and regions (sharedDb)', async () => {
    const other = new DynamoDBClient({
      ...dynamoDbClientConfig(db.endpoint),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'someoneElse', secretAccessKey: 'other' },
    });
    try {
      const { TableNames } = await other.send(new ListTablesCommand({}));
      expect(TableNames).toContain(db.tableName);
    } finally {
      other.destroy();
    }
  });
});

describe('startDynamoDbLocal', () => {
  it('keeps data across a stop and a restart on the same dataDir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hangar-dynamo-'));
    const tableName = 'persisted';
    const key = { pk: { S: 'CLIENT#c1' }, sk: { S: 'META' } };
    try {
      const first = await startDynamoDbLocal({ dataDir });
      const firstClient = new DynamoDBClient(dynamoDbClientConfig(first.endpoint));
      try {
        expect(await ensureTable(firstClient, tableName)).toBe('created');
        await firstClient.send(new PutItemCommand({ TableName: tableName, Item: { ...key, name: { S: 'Acme' } } }));
      } finally {
        firstClient.destroy();
        await first.stop();
      }
      // Stopped means stopped: nothing answers on the old endpoint.
      await expect(fetch(first.endpoint, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

      const second = await startDynamoDbLocal({ dataDir });
      const secondClient = new DynamoDBClient(dynamoDbClientConfig(second.endpoint));
      try {
        expect(await ensureTable(secondClient, tableName)).toBe('exists');
        const { Item } = await secondClient.send(new GetItemCommand({ TableName: tableName, Key: key }));
        expect(Item?.name).toEqual({ S: 'Acme' });
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    // Two JVM starts: generous on a loaded two-core machine.
  }, 120_000);

  it('refuses a port that is already taken instead of reusing whoever listens there', async () => {
    const port = Number(new URL(inject('dynamoEndpoint')).port);
    await expect(startDynamoDbLocal({ port })).rejects.toThrow(`port ${port} is already in use`);
  });
});

describe('the Java check', () => {
  it('tells the operator what to install when java is missing', async () => {
    const error = await assertJavaAvailable('hangar-no-such-java').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(JAVA_MISSING_MESSAGE);
    expect((error as Error).message).toContain('apt-get install openjdk-17-jre-headless');
  });

  it('reads modern and legacy version strings', () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajorVersion('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajorVersion('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "11.0.2"')).toBe(11);
    expect(parseJavaMajorVersion('command not found')).toBeUndefined();
  });

  it('accepts the Java on this machine', async () => {
    await expect(assertJavaAvailable()).resolves.toBeUndefined();
  });
});

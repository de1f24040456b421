/**
 * Per-test tables on the run's shared DynamoDB Local (started by ./global-setup.ts).
 *
 *   const db = await createTestTable();
 *   afterAll(() => deleteTestTable(db));
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { dynamoDbClientConfig, ensureTable } from '../../infra/local/dynamodb-local.ts';

export interface TestTable {
  tableName: string;
  client: DynamoDBClient;
  endpoint: string;
}

/** A fresh table (from the shared definition, TTL on) with a name no other test uses. */
export async function createTestTable(prefix = 'test'): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoint');
  if (!endpoint) {
    throw new Error('No DynamoDB Local endpoint: run through vitest with test/support/global-setup.ts as globalSetup.');
  }
  const client = new DynamoDBClient(dynamoDbClientConfig(endpoint));
  const tableName = `${prefix}-${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await ensureTable(client, tableName);
  return { tableName, client, endpoint };
}

/** Drops the table (if still there) and closes the client. */
export async function deleteTestTable(table: Pick<TestTable, 'tableName' | 'client'>): Promise<void> {
  try {
    await table.client.send(new DeleteTableCommand({ TableName: table.tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  } finally {
    table.client.destroy();
  }
}

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../config/env.ts';
import { once } from '../config/lazy.ts';
import type { TableEntities } from './table-entities.ts';

/** Everything that talks to the table, built once per process. */
export interface Db {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  /**
   * The ElectroDB entities, loaded with ElectroDB itself on the first call. ElectroDB is most of
   * what a cold start parses after the SDK (npm run bench: the floor without it), so the reads a
   * cold start most often answers (an API key, one item, a page) go through raw commands instead.
   */
  entities(): Promise<TableEntities>;
}

export function createDb(options: { tableName: string; client?: DynamoDBClient; clientConfig?: DynamoDBClientConfig }): Db {
  const client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  const translateConfig = { marshallOptions: { removeUndefinedValues: true } };
  const doc = DynamoDBDocumentClient.from(client, translateConfig);
  const entities = once(async () => (await import('./table-entities.ts')).tableEntities(doc, options.tableName));
  return { client, doc, tableName: options.tableName, entities };
}

/** The table the CDK app names in TABLE_NAME. */
export const tableFromEnvironment = (): Db => createDb({ tableName: requireEnv('TABLE_NAME') });

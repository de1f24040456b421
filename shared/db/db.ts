import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireEnv } from '../config/env.ts';
import { createEntities, type HangarService } from './entities.ts';

/** Everything that talks to the table, built once per process. */
export interface Db {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  entities: HangarService;
}

export function createDb(options: { tableName: string; client?: DynamoDBClient; clientConfig?: DynamoDBClientConfig }): Db {
  const client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  const translateConfig = { marshallOptions: { removeUndefinedValues: true } };
  const doc = DynamoDBDocumentClient.from(client, translateConfig);
  return { client, doc, tableName: options.tableName, entities: createEntities(doc, options.tableName) };
}

/** The table the CDK app names in TABLE_NAME. */
export const tableFromEnvironment = (): Db => createDb({ tableName: requireEnv('TABLE_NAME') });

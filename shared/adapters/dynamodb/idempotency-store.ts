import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Db } from '../../db/db.ts';

/** Idempotency-Key records on the one table, under their own partition and with a TTL. */
export const dynamoIdempotencyStore = (db: Pick<Db, 'tableName' | 'client'>) =>
  new DynamoDBPersistenceLayer({
    tableName: db.tableName,
    awsSdkV3Client: db.client,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    staticPkValue: 'IDEMPOTENCY',
    expiryAttr: 'ttl',
  });

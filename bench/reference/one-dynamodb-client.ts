import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

/** The yardstick for cold starts: a function holding one bare DynamoDB client and nothing else. */
const client = new DynamoDBClient({});

export const handler = async (event: { table: string; pk: string }) =>
  client.send(new GetItemCommand({ TableName: event.table, Key: { pk: { S: event.pk }, sk: { S: 'META' } } }));

/**
 * The one DynamoDB table, described once. The CDK stateful stack and the local runtime both
 * create the table from this, so they cannot drift apart.
 */
export interface IndexDefinition {
  /** Physical index name. */
  name: string;
  partitionKey: string;
  sortKey: string;
  /** The access patterns this index serves; kept here so the template explains itself. */
  serves: string[];
}

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  indexes: [
    {
      name: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      serves: ['instance by id', 'client by name', 'api keys by client', 'events by client in time order', 'sync jobs by resource type', 'WebSocket subscribers by channel', 'instances by tag key=value', 'instances by type'],
    },
    {
      name: 'gsi2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      serves: ['instances by client and status', 'all clients by name', 'all accounts (periodic sync)', 'sync jobs by client', 'instances by tag key', 'instances by provider'],
    },
    {
      name: 'gsi3',
      partitionKey: 'gsi3pk',
      sortKey: 'gsi3sk',
      serves: ['instances by status across clients (reconcilers, health checks, the sampler)', 'instances by user', 'deadlines and idle stops by due time (the sweeper)'],
    },
  ] satisfies IndexDefinition[],
} as const;

/** Every key attribute is a string. */
export const KEY_ATTRIBUTES = [
  TABLE.partitionKey,
  TABLE.sortKey,
  ...TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
];

/** Input for CreateTable (local runtime, tests): on-demand, streams with both images. */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: KEY_ATTRIBUTES.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}

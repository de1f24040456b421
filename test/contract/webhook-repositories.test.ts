/** The webhook repository contract against DynamoDB Local and in memory. */
import { DynamoWebhookRepository } from '../../shared/adapters/dynamodb/webhook-repository.ts';
import { MemoryWebhookRepository } from '../../shared/adapters/memory/webhook-repository.ts';
import { createDb } from '../../shared/db/db.ts';
import { createTestTable, deleteTestTable } from '../support/dynamodb.ts';
import { runWebhookRepositoryContract } from './webhook-repository.contract.ts';

runWebhookRepositoryContract('memory', async () => ({ repo: new MemoryWebhookRepository(), cleanup: async () => {} }));
runWebhookRepositoryContract('dynamodb', async () => {
  const table = await createTestTable('contract-webhooks');
  return { repo: new DynamoWebhookRepository(createDb({ tableName: table.tableName, client: table.client })), cleanup: () => deleteTestTable(table) };
});

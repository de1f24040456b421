/** The EXTERNAL registration repository contract against DynamoDB Local, in memory, and the pre-table JSON file. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoExternalRegistrationRepository } from '../../shared/adapters/dynamodb/external-registration-repository.ts';
import { FileExternalRegistrationRepository } from '../../shared/adapters/external/registration-store.ts';
import { MemoryExternalRegistrationRepository } from '../../shared/adapters/memory/external-registration-repository.ts';
import { createDb } from '../../shared/db/db.ts';
import { createTestTable, deleteTestTable } from '../support/dynamodb.ts';
import { runExternalRegistrationRepositoryContract } from './external-registration-repository.contract.ts';

runExternalRegistrationRepositoryContract('memory', async () => ({ repo: new MemoryExternalRegistrationRepository(), cleanup: async () => {} }));
runExternalRegistrationRepositoryContract('dynamodb', async () => {
  const table = await createTestTable('contract-external');
  return { repo: new DynamoExternalRegistrationRepository(createDb({ tableName: table.tableName, client: table.client })), cleanup: () => deleteTestTable(table) };
});
runExternalRegistrationRepositoryContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-external-contract-'));
  return { repo: new FileExternalRegistrationRepository(join(dir, 'external-endpoints.json')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

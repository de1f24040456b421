/** The repository contracts against the DynamoDB adapters, on a table of DynamoDB Local. */
import { DynamoAccountRepository } from '../../shared/adapters/dynamodb/account-repository.ts';
import { DynamoBusinessActionRepository } from '../../shared/adapters/dynamodb/business-action-repository.ts';
import { runBusinessActionContract } from './business-action-repository.contract.ts';
import { DynamoCatalogRepository } from '../../shared/adapters/dynamodb/catalog-repository.ts';
import { DynamoClientRepository } from '../../shared/adapters/dynamodb/client-repository.ts';
import { DynamoInstanceRepository } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { DynamoSyncJobRepository } from '../../shared/adapters/dynamodb/sync-job-repository.ts';
import { createDb, type Db } from '../../shared/db/db.ts';
import { createTestTable, deleteTestTable } from '../support/dynamodb.ts';
import { runAccountRepositoryContract } from './account-repository.contract.ts';
import { runCatalogRepositoryContract } from './catalog-repository.contract.ts';
import { runClientRepositoryContract } from './client-repository.contract.ts';
import { runInstanceRepositoryContract } from './instance-repository.contract.ts';
import { runSyncJobRepositoryContract } from './sync-job-repository.contract.ts';
import { runRealtimeRepositoryContract } from './realtime-repository.contract.ts';
import { DynamoRealtimeRepository } from '../../shared/adapters/dynamodb/realtime-repository.ts';

/** A fresh table per contract, dropped after it. */
async function onTable<T extends object>(label: string, make: (db: Db) => T): Promise<T & { cleanup: () => Promise<void> }> {
  const table = await createTestTable(`contract-${label}`);
  const db = createDb({ tableName: table.tableName, client: table.client });
  return { ...make(db), cleanup: () => deleteTestTable(table) };
}

runInstanceRepositoryContract('dynamodb', () => onTable('instances', (db) => ({ repo: new DynamoInstanceRepository(db) })));
runClientRepositoryContract('dynamodb', () => onTable('clients', (db) => ({ repo: new DynamoClientRepository(db) })));
runAccountRepositoryContract('dynamodb', () =>
  onTable('accounts', (db) => ({ repo: new DynamoAccountRepository(db), instances: new DynamoInstanceRepository(db) })),
);
runCatalogRepositoryContract('dynamodb', () => onTable('catalog', (db) => ({ repo: new DynamoCatalogRepository(db) })));
runSyncJobRepositoryContract('dynamodb', () => onTable('sync-jobs', (db) => ({ repo: new DynamoSyncJobRepository(db) })));
runRealtimeRepositoryContract('dynamodb', () => onTable('realtime', (db) => ({ repo: new DynamoRealtimeRepository(db) })));
runBusinessActionContract('dynamodb', () =>
  onTable('business-actions', (db) => ({ actions: new DynamoBusinessActionRepository(db), instances: new DynamoInstanceRepository(db), clients: new DynamoClientRepository(db) })),
);

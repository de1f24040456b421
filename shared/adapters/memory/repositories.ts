import { MemoryAccountRepository } from './account-repository.ts';
import { MemoryBusinessActionRepository } from './business-action-repository.ts';
import { MemoryCatalogRepository } from './catalog-repository.ts';
import { MemoryClientRepository } from './client-repository.ts';
import { MemoryInstanceRepository } from './instance-repository.ts';
import { MemorySyncJobRepository } from './sync-job-repository.ts';

/** Every repository in memory, wired as the table wires them (accounts see the instances that use them). */
export function createMemoryRepositories() {
  const actions = new MemoryBusinessActionRepository();
  const instances = new MemoryInstanceRepository(actions);
  return {
    instances,
    clients: new MemoryClientRepository(actions),
    actions,
    accounts: new MemoryAccountRepository(instances, actions),
    catalog: new MemoryCatalogRepository(),
    syncs: new MemorySyncJobRepository(),
  };
}

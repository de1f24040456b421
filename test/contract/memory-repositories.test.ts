/** The repository contracts against the in-memory adapters. */
import { createMemoryRepositories } from '../../shared/adapters/memory/repositories.ts';
import { runAccountRepositoryContract } from './account-repository.contract.ts';
import { runBusinessActionContract } from './business-action-repository.contract.ts';
import { runCatalogRepositoryContract } from './catalog-repository.contract.ts';
import { runClientRepositoryContract } from './client-repository.contract.ts';
import { runInstanceRepositoryContract } from './instance-repository.contract.ts';
import { runSyncJobRepositoryContract } from './sync-job-repository.contract.ts';
import { runRealtimeRepositoryContract } from './realtime-repository.contract.ts';
import { MemoryRealtimeRepository } from '../../shared/adapters/memory/realtime-repository.ts';

const cleanup = async () => {};

runInstanceRepositoryContract('memory', async () => ({ repo: createMemoryRepositories().instances, cleanup }));
runClientRepositoryContract('memory', async () => ({ repo: createMemoryRepositories().clients, cleanup }));
runAccountRepositoryContract('memory', async () => {
  const repos = createMemoryRepositories();
  return { repo: repos.accounts, instances: repos.instances, cleanup };
});
runCatalogRepositoryContract('memory', async () => ({ repo: createMemoryRepositories().catalog, cleanup }));
runSyncJobRepositoryContract('memory', async () => ({ repo: createMemoryRepositories().syncs, cleanup }));
runRealtimeRepositoryContract('memory', async () => ({ repo: new MemoryRealtimeRepository(), cleanup }));
runBusinessActionContract('memory', async () => {
  const repos = createMemoryRepositories();
  return { actions: repos.actions, instances: repos.instances, clients: repos.clients, cleanup };
});

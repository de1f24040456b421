import type { ClientStore } from '../db/client-store.ts';
import type { InstanceStore } from '../db/instance-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { ProviderRegistry } from '../ports/providers.ts';
import type { Workflows } from '../ports/workflows.ts';

/** What the use cases need; built once per process by the composition root and injected. */
export interface ServiceDeps {
  instances: InstanceStore;
  clients: ClientStore;
  providers: ProviderRegistry;
  workflows: Workflows;
  clock: Clock;
}

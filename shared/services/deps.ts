import type { ClientRepository } from '../ports/client-repository.ts';
import type { InstanceRepository } from '../ports/instance-repository.ts';
import type { Clock } from '../ports/clock.ts';
import type { ProviderRegistry } from './provider-registry.ts';
import type { Workflows } from '../ports/workflows.ts';
import type { Instance } from '../domain/instance.ts';
import type { SyncTarget } from '../domain/sync.ts';

/** What the use cases need; built once per process by the composition root and injected. */
export interface ServiceDeps {
  instances: InstanceRepository;
  clients: ClientRepository;
  providers: ProviderRegistry;
  workflows: Workflows;
  clock: Clock;
  /** Keeps an instance's auto-terminate schedule in step with its deadline and status. */
  deadlines: { sync(instance: Instance): Promise<void> };
  /**
   * How long a deadline "minute" lasts: 60,000 ms, except in development, where the local
   * runtime may shorten it (HANGAR_DEADLINE_MINUTE_MS) to watch auto-terminate happen.
   */
  deadlineMinuteMs?: number;
  /**
   * Refuses a flavor or image the synced catalog does not hold, and returns the synced flavor
   * (for its price). Absent where no catalog is kept (unit tests of other services).
   */
  launchCatalog?: { checkLaunch(target: SyncTarget, choice: { instanceType: string; image?: string }): Promise<{ hourlyMicros?: number } | undefined> };
}

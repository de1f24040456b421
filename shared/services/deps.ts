import type { ClientRepository } from '../ports/client-repository.ts';
import type { InstanceRepository } from '../ports/instance-repository.ts';
import type { Clock } from '../ports/clock.ts';
import type { ProviderRegistry } from './provider-registry.ts';
import type { Workflows } from '../ports/workflows.ts';
import type { Instance } from '../domain/instance.ts';
import type { SyncTarget } from '../domain/sync.ts';
import { deadlinePolicy, type DeadlinePolicy } from '../domain/deadlines.ts';

/** What the use cases need; built once per process by the composition root and injected. */
export interface ServiceDeps {
  instances: InstanceRepository;
  clients: ClientRepository;
  providers: ProviderRegistry;
  workflows: Workflows;
  clock: Clock;
  /**
   * Keeps an instance's auto-terminate schedules in step with its deadline and status; `before`
   * (the instance before the change) tells a new deadline from one re-applied.
   */
  deadlines: { sync(instance: Instance, before?: Instance): Promise<void> };
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

/** The deadline policy a deployment runs with (its deadline minute, its warning lead). */
export const deadlinePolicyOf = (deps: { deadlineMinuteMs?: number; warningMinutes?: number }): DeadlinePolicy =>
  deadlinePolicy({ minuteMs: deps.deadlineMinuteMs, warningMinutes: deps.warningMinutes });

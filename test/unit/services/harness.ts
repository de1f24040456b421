/**
 * The instance, provisioning, automation and sync use cases wired on the in-memory
 * repositories (no Java): a fake LOCAL provider, recorded workflows and schedules, and a clock
 * the test moves. The same wiring the composition makes, by hand.
 */
import { createMemoryRepositories } from '../../../shared/adapters/memory/repositories.ts';
import type { Instance } from '../../../shared/domain/instance.ts';
import type { Scheduler } from '../../../shared/ports/scheduler.ts';
import type { SyncDispatcher } from '../../../shared/ports/sync-dispatcher.ts';
import { makeAutomations, type Automations } from '../../../shared/services/automations.ts';
import { makeClientService } from '../../../shared/services/clients.ts';
import type { ServiceDeps } from '../../../shared/services/deps.ts';
import { makeInstanceService } from '../../../shared/services/instances.ts';
import { ProviderRegistry } from '../../../shared/services/provider-registry.ts';
import { makeProvisioningSteps } from '../../../shared/services/provisioning.ts';
import { makeSyncService } from '../../../shared/services/sync.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../../support/fakes.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { provisionToReady } from '../../support/provisioning.ts';

/** Keeps schedules instead of firing them: tests fire them by hand. */
export class RecordingScheduler implements Scheduler {
  readonly schedules = new Map<string, { at: Date; payload: Record<string, string> }>();
  async scheduleOnce(s: { name: string; at: Date; payload: Record<string, string> }) {
    this.schedules.set(s.name, { at: s.at, payload: s.payload });
  }
  async cancel(name: string) {
    this.schedules.delete(name);
  }
}

export function useCaseHarness(start = '2026-06-01T10:00:00.000Z') {
  const repos = createMemoryRepositories();
  const clock = new ManualClock(new Date(start));
  const workflows = new RecordingWorkflows();
  const scheduler = new RecordingScheduler();
  const provider = new FakeProvider({ name: 'LOCAL' });
  let automations: Automations | undefined;
  const deps: ServiceDeps = {
    instances: repos.instances,
    clients: repos.clients,
    providers: new ProviderRegistry([provider]),
    workflows,
    clock,
    deadlines: { sync: (instance: Instance, before?: Instance) => automations!.syncDeadline(instance, before) },
  };
  automations = makeAutomations({ ...deps, scheduler });
  const dispatcher: SyncDispatcher = { dispatch: async () => {} };
  const sync = makeSyncService({ ...deps, catalog: repos.catalog, syncs: repos.syncs, accounts: repos.accounts, dispatcher });
  const instances = makeInstanceService(deps);
  const clients = makeClientService(deps);
  const steps = makeProvisioningSteps(deps);

  /** A client with an operator key, optionally with its own limits. */
  async function clientWith(name: string, body: Record<string, unknown> = {}) {
    const client = await clients.create(PLATFORM_ADMIN, { name, ...body });
    return { client, operator: principalFor(client.clientId, 'operator') };
  }

  /** Create as `operator`, then drive the workflow's steps to READY. */
  async function readyInstance(operator: ReturnType<typeof principalFor>, body: Record<string, unknown>) {
    const created = await instances.create(operator, body);
    return provisionToReady(steps, { clientId: created.clientId, instanceId: created.id });
  }

  const eventsOf = async (id: string) => (await repos.instances.events(id, { limit: 100 })).items;

  return { repos, clock, workflows, scheduler, provider, deps, automations, sync, instances, clients, steps, clientWith, readyInstance, eventsOf };
}

/**
 * Use cases on the in-memory repositories (no Java): the instance and client services over
 * memory adapters, a fake LOCAL provider, recorded workflows and a clock the test moves.
 */
import { createMemoryRepositories } from '../../../shared/adapters/memory/repositories.ts';
import { applyAction, type Instance } from '../../../shared/domain/instance.ts';
import type { InstanceAction } from '../../../shared/domain/lifecycle.ts';
import type { Principal } from '../../../shared/domain/roles.ts';
import { makeAuditService } from '../../../shared/services/audit.ts';
import { makeBudgetSweep } from '../../../shared/services/business/budget-sweep.ts';
import { makeClientBudget } from '../../../shared/services/business/client-budget.ts';
import { makeClientRevenue } from '../../../shared/services/business/client-revenue.ts';
import { makeEstimateInstance } from '../../../shared/services/business/estimate-instance.ts';
import { makeClientService } from '../../../shared/services/clients.ts';
import type { ServiceDeps } from '../../../shared/services/deps.ts';
import { makeInstanceService } from '../../../shared/services/instances.ts';
import { ProviderRegistry } from '../../../shared/services/provider-registry.ts';
import { FakeProvider, RecordingWorkflows } from '../../support/fakes.ts';
import { ManualClock } from '../../support/manual-clock.ts';

export const PLATFORM: Principal = { keyId: 'key-platform', role: 'platform-admin', clientId: null };

export function businessHarness(start = '2026-03-10T12:00:00.000Z') {
  const repos = createMemoryRepositories();
  const clock = new ManualClock(new Date(start));
  const workflows = new RecordingWorkflows();
  const deps: ServiceDeps = {
    instances: repos.instances,
    clients: repos.clients,
    providers: new ProviderRegistry([new FakeProvider({ name: 'LOCAL' })]),
    workflows,
    clock,
    deadlines: { sync: async () => {} },
  };
  const instances = makeInstanceService(deps);
  const clients = makeClientService(deps);
  const audit = makeAuditService({ clients: repos.clients, actions: repos.actions });
  const revenue = makeClientRevenue(deps);
  const budget = makeClientBudget(deps);
  const estimate = makeEstimateInstance(deps);
  const budgets = makeBudgetSweep(deps);

  /** Walk an instance through system events as the workflows would, each written with its event. */
  async function drive(id: string, ...actions: InstanceAction[]): Promise<Instance> {
    let current = (await repos.instances.findById(id))!;
    for (const action of actions) {
      const next = applyAction(current, action, clock.now());
      await repos.instances.save(current, next, [{ type: 'instance.status-changed', fromStatus: current.status, toStatus: next.status, actor: 'system', message: action }]);
      current = next;
    }
    return current;
  }

  /** A client's own key of `role`. */
  const keyOf = (clientId: string, role: Principal['role'] = 'admin', keyId = `key-${role}-${clientId}`): Principal => ({ keyId, role, clientId });

  return { repos, clock, workflows, deps, instances, clients, audit, revenue, budget, estimate, budgets, drive, keyOf };
}

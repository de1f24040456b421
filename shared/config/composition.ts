import { ClientStore } from '../db/client-store.ts';
import { createDb, type Db } from '../db/db.ts';
import { InstanceStore } from '../db/instance-store.ts';
import { ApiKeyAuthenticator } from '../http/auth.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';
import { ProviderRegistry } from '../ports/providers.ts';
import type { Workflows } from '../ports/workflows.ts';
import { makeClientService } from '../services/clients.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { makeInstanceService } from '../services/instances.ts';
import { makeProvisioningSteps } from '../services/provisioning.ts';
import { StepFunctionsWorkflows, stateMachineArnsFromEnvironment } from '../adapters/aws/step-functions-workflows.ts';
import { requireEnv } from './env.ts';

/**
 * The composition root: adapters chosen once per process and handed to the services. Lambda
 * builds it from the environment on first use; the local runtime and tests build their own and
 * install it with `useAppDependencies` before any request arrives.
 */
export interface AppDependencies extends ServiceDeps {
  db: Db;
  authenticator: ApiKeyAuthenticator;
  services: {
    instances: ReturnType<typeof makeInstanceService>;
    clients: ReturnType<typeof makeClientService>;
    provisioning: ReturnType<typeof makeProvisioningSteps>;
  };
}

export function buildAppDependencies(options: {
  db: Db;
  providers: ComputeProvider[];
  /** Given the provisioning steps, because the local runner drives them in-process. */
  workflows: (steps: ReturnType<typeof makeProvisioningSteps>) => Workflows;
  clock?: Clock;
}): AppDependencies {
  const instances = new InstanceStore(options.db);
  const clients = new ClientStore(options.db);
  const clock = options.clock ?? systemClock;
  const providers = new ProviderRegistry(options.providers);
  let workflows: Workflows | undefined;
  const base: ServiceDeps = {
    instances,
    clients,
    providers,
    clock,
    // Resolved lazily: the workflows need the steps, and the steps need the deps.
    workflows: { start: (workflow, ref, options) => workflows!.start(workflow, ref, options) },
  };
  const provisioning = makeProvisioningSteps(base);
  workflows = options.workflows(provisioning);
  return {
    ...base,
    db: options.db,
    authenticator: new ApiKeyAuthenticator(clients),
    services: {
      instances: makeInstanceService(base),
      clients: makeClientService(base),
      provisioning,
    },
  };
}

let current: Promise<AppDependencies> | undefined;

export function appDependencies(): Promise<AppDependencies> {
  current ??= Promise.resolve(fromLambdaEnvironment());
  return current;
}

export function useAppDependencies(deps: AppDependencies): void {
  current = Promise.resolve(deps);
}

/** On AWS: the table and the state machines from the environment; cloud providers arrive with their issue. */
function fromLambdaEnvironment(): AppDependencies {
  const db = createDb({ tableName: requireEnv('TABLE_NAME') });
  return buildAppDependencies({
    db,
    providers: [],
    workflows: () => new StepFunctionsWorkflows(stateMachineArnsFromEnvironment),
  });
}

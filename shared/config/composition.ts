import { AccountStore } from '../db/account-store.ts';
import { ClientStore } from '../db/client-store.ts';
import { createDb, type Db } from '../db/db.ts';
import { InstanceStore } from '../db/instance-store.ts';
import { ApiKeyAuthenticator } from '../http/auth.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';
import { ProviderRegistry } from '../services/provider-registry.ts';
import type { ProviderName } from '../domain/catalog.ts';
import { cloudProviderFactory } from './cloud-providers.ts';
import { makeCatalogService } from '../services/catalog.ts';
import { makeSyncService, type SyncService } from '../services/sync.ts';
import { CatalogStore } from '../db/catalog-store.ts';
import { SyncStore } from '../db/sync-store.ts';
import type { SyncDispatcher } from '../ports/sync-dispatcher.ts';
import { LambdaSyncDispatcher } from '../adapters/aws/lambda-sync-dispatcher.ts';
import { makeAutomations, type Automations } from '../services/automations.ts';
import { makeHealthService } from '../services/health.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import { EventBridgeScheduler, deadlineSchedulerFromEnvironment } from '../adapters/aws/eventbridge-scheduler.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import type { Workflows } from '../ports/workflows.ts';
import { makeAccountService, type ProviderFactory, unavailableProviderFactory } from '../services/accounts.ts';
import { makeClientService } from '../services/clients.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { makeInstanceService } from '../services/instances.ts';
import { makeProvisioningSteps } from '../services/provisioning.ts';
import { KmsSecretBox, SECRETS_KEY_VARIABLE } from '../adapters/aws/kms-secret-box.ts';
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
  /** Seals provider credentials: KMS envelope on AWS, a local key file in the local runtime. */
  secretBox: SecretBox;
  /** Builds a provider adapter for one account's credentials (account tests, cloud workflows). */
  providerFactory: ProviderFactory;
  services: {
    instances: ReturnType<typeof makeInstanceService>;
    health: ReturnType<typeof makeHealthService>;
    clients: ReturnType<typeof makeClientService>;
    provisioning: ReturnType<typeof makeProvisioningSteps>;
    accounts: ReturnType<typeof makeAccountService>;
    catalog: ReturnType<typeof makeCatalogService>;
    sync: SyncService;
    automations: Automations | undefined;
  };
}

export function buildAppDependencies(options: {
  db: Db;
  providers: ComputeProvider[];
  /** Given the provisioning steps, because the local runner drives them in-process. */
  workflows: (steps: ReturnType<typeof makeProvisioningSteps>) => Workflows;
  clock?: Clock;
  /** Default: a box that refuses, so a deployment without one cannot store credentials by accident. */
  secretBox?: SecretBox;
  /** Default: no cloud provider is available. */
  providerFactory?: ProviderFactory;
  /** The cloud providers the factory builds (default: AWS and OPENSTACK when a factory is given). */
  cloudProviders?: ProviderName[];
  /** One-time schedules for auto-terminate deadlines; without one, deadlines are only swept. */
  scheduler?: Scheduler;
  deadlineMinuteMs?: number;
  /** Minutes before a deadline that the warning event is written (default 5). */
  deadlineWarningMinutes?: number;
  /** Where queued sync jobs run; given the sync service, because the local runner calls it in-process. */
  syncDispatcher?: (sync: SyncService) => SyncDispatcher;
}): AppDependencies {
  const instances = new InstanceStore(options.db);
  const clients = new ClientStore(options.db);
  const clock = options.clock ?? systemClock;
  const providers = new ProviderRegistry(options.providers);
  const accountStore = new AccountStore(options.db);
  const catalogStore = new CatalogStore(options.db);
  const syncs = new SyncStore(options.db);
  const catalog = makeCatalogService({ providers, accounts: accountStore, catalog: catalogStore, syncs });
  let workflows: Workflows | undefined;
  const base: ServiceDeps = {
    instances,
    clients,
    providers,
    clock,
    // Resolved lazily: the workflows need the steps, and the steps need the deps.
    workflows: { start: (workflow, ref, options) => workflows!.start(workflow, ref, options) },
    deadlines: { sync: (instance) => automations?.syncDeadline(instance) ?? Promise.resolve() },
    deadlineMinuteMs: options.deadlineMinuteMs,
    launchCatalog: catalog,
  };
  const instanceService = makeInstanceService(base);
  const automations = options.scheduler ? makeAutomations({ ...base, scheduler: options.scheduler, warningMinutes: options.deadlineWarningMinutes }) : undefined;
  const provisioning = makeProvisioningSteps(base);
  workflows = options.workflows(provisioning);
  const secretBox = options.secretBox ?? noSecretBox;
  const providerFactory = options.providerFactory ?? unavailableProviderFactory;
  const accounts = makeAccountService({ accounts: accountStore, clients, secretBox, providerFactory, clock });
  if (options.providerFactory) providers.useAccounts(accounts, providerFactory, options.cloudProviders ?? ['AWS', 'OPENSTACK']);
  let dispatcher: SyncDispatcher | undefined;
  const sync = makeSyncService({
    ...base,
    catalog: catalogStore,
    syncs,
    accounts: accountStore,
    dispatcher: { dispatch: (run) => (dispatcher ?? refuseSync).dispatch(run) },
  });
  dispatcher = options.syncDispatcher?.(sync);
  return {
    ...base,
    db: options.db,
    authenticator: new ApiKeyAuthenticator(clients),
    secretBox,
    providerFactory,
    services: {
      instances: instanceService,
      health: makeHealthService(base, instanceService),
      clients: makeClientService(base),
      provisioning,
      accounts,
      catalog,
      sync,
      automations,
    },
  };
}

const noSecretBox: SecretBox = {
  seal: async () => {
    throw new Error('No secret box is configured in this deployment');
  },
  open: async () => {
    throw new Error('No secret box is configured in this deployment');
  },
};

const refuseSync: SyncDispatcher = {
  dispatch: async () => {
    throw new Error('No sync runner is configured in this deployment');
  },
};

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
    // The key is checked when sealing, so functions that never seal need not be given one.
    secretBox: new KmsSecretBox({ keyId: process.env[SECRETS_KEY_VARIABLE] }),
    providerFactory: cloudProviderFactory,
    scheduler: new EventBridgeScheduler(deadlineSchedulerFromEnvironment),
    deadlineWarningMinutes: process.env.DEADLINE_WARNING_MINUTES ? Number(process.env.DEADLINE_WARNING_MINUTES) : undefined,
    syncDispatcher: () => new LambdaSyncDispatcher(),
  });
}

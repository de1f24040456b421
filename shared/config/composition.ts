import type { HttpDeps } from '../http/http-api.ts';
import { DynamoAccountRepository } from '../adapters/dynamodb/account-repository.ts';
import { DynamoCatalogRepository } from '../adapters/dynamodb/catalog-repository.ts';
import { DynamoClientRepository } from '../adapters/dynamodb/client-repository.ts';
import type { Db } from '../db/db.ts';
import { DynamoInstanceRepository } from '../adapters/dynamodb/instance-repository.ts';
import { DynamoSyncJobRepository } from '../adapters/dynamodb/sync-job-repository.ts';
import { DynamoRealtimeRepository } from '../adapters/dynamodb/realtime-repository.ts';
import { DynamoWebhookRepository } from '../adapters/dynamodb/webhook-repository.ts';
import { generateWebhookSecret, signedHeaders } from '../adapters/webhooks/signature.ts';
import type { ProviderName } from '../domain/catalog.ts';
import type { Instance } from '../domain/instance.ts';
import { ApiKeyAuthenticator } from '../http/auth.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';
import type { ProviderFactory } from '../ports/providers.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import type { SyncDispatcher, SyncRun } from '../ports/sync-dispatcher.ts';
import type { Workflows } from '../ports/workflows.ts';
import type { EventSink } from '../ports/event-sink.ts';
import type { WebhookQueue } from '../ports/webhook-queue.ts';
import type { WebhookTransport } from '../ports/webhook-transport.ts';
import { makeDeliverWebhook, type DeliverWebhook } from '../services/webhooks/deliver-webhook.ts';
import { makeWebhookService, type WebhookService } from '../services/webhooks/manage-webhooks.ts';
import { makeWebhookSink } from '../services/webhooks/webhook-sink.ts';
import { makeAccountService, unavailableProviderFactory } from '../services/accounts.ts';
import { makeAutomations, type Automations } from '../services/automations.ts';
import { makeCatalogService } from '../services/catalog.ts';
import { makeClientService } from '../services/clients.ts';
import { makeBusinessServices, type BusinessServices } from '../services/business/index.ts';
import { DynamoBusinessActionRepository } from '../adapters/dynamodb/business-action-repository.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { makeHealthService } from '../services/health.ts';
import { makeInstanceService } from '../services/instances.ts';
import { ProviderRegistry } from '../services/provider-registry.ts';
import { makeProvisioningSteps } from '../services/provisioning.ts';
import { makeSyncService, type SyncService } from '../services/sync.ts';
import { makeRealtimeSessions, type RealtimeSessions } from '../services/events/realtime-sessions.ts';
import { makeRouteEvents, type RouteEvents } from '../services/events/route-events.ts';
import { makeWebSocketSink } from '../services/events/websocket-sink.ts';
import type { WebSocketPublisher } from '../ports/websocket-publisher.ts';
import type { RealtimeRepository } from '../ports/realtime-repository.ts';
import { lazyObject, once, withExtras } from './lazy.ts';

/**
 * The adapters a process is made of. Each Lambda function gives only the ones its handler
 * uses (functions/**), the local runtime gives them all (infra/local/runtime.ts), tests give
 * doubles; the wiring between services below is written once for all of them.
 */
export interface Pieces {
  db: Db;
  clock?: Clock;
  /** Providers that need no account: LOCAL and EXTERNAL. */
  providers?: ComputeProvider[];
  /** Builds a cloud adapter from an account's opened credentials. Default: no cloud. */
  providerFactory?: ProviderFactory;
  /** The clouds the factory builds (default: AWS, OPENSTACK and AZURE when a factory is given). */
  cloudProviders?: ProviderName[];
  /** An AWS create without accountId runs on the deployment's own role (the stage allows it; default no). */
  allowDeploymentAwsAccount?: boolean;
  /** Seals and opens provider credentials. Default: a box that refuses. */
  secretBox?: SecretBox;
  /** Given the provisioning steps, because the local runner drives them in-process. */
  workflows?: (steps: ProvisioningSteps) => Workflows;
  /** One-time schedules for auto-terminate deadlines; without one, deadlines are only swept. */
  scheduler?: Scheduler;
  deadlineMinuteMs?: number;
  /** Minutes before a deadline that the warning event is written (default 5). */
  deadlineWarningMinutes?: number;
  /** Where queued sync jobs run; given the sync service, because the local runner calls it in-process. */
  syncDispatcher?: (sync: SyncService) => SyncDispatcher;
  /** Sends to open WebSockets; without one, the event router has no WebSocket sink. */
  webSocketPublisher?: WebSocketPublisher;
  /** The URL sockets open (the stage's WebSocket API); default: the requesting gateway's `/ws`. */
  webSocketUrl?: string;
  /** How long a WebSocket ticket lasts (default 60 s; the local runtime may shorten it). */
  realtimeTicketSeconds?: number;
  /** More destinations of the event router, after the WebSocket sink (e.g. the EventBridge bus on AWS). */
  eventSinks?: EventSink[];
  /** How webhooks reach receivers (and which targets are refused). Default: a transport that refuses. */
  webhookTransport?: WebhookTransport;
  /** Where delivery attempts wait; given the deliverer, because the local queue runs it in-process. */
  webhookQueue?: (deliver: DeliverWebhook) => WebhookQueue;
  /** Delays before each delivery attempt (the local runtime may shorten them). */
  webhookRetrySchedule?: readonly number[];
}

type ProvisioningSteps = ReturnType<typeof makeProvisioningSteps>;

export interface AppDependencies extends ServiceDeps {
  db: Db;
  idempotencyStore: HttpDeps['idempotencyStore'];
  authenticator: ApiKeyAuthenticator;
  secretBox: SecretBox;
  providerFactory: ProviderFactory;
  services: {
    instances: ReturnType<typeof makeInstanceService>;
    health: ReturnType<typeof makeHealthService>;
    clients: ReturnType<typeof makeClientService>;
    /** Audit log, revenue, budgets, the estimate and the budget sweep. */
    business: BusinessServices;
    provisioning: ProvisioningSteps;
    accounts: ReturnType<typeof makeAccountService>;
    catalog: ReturnType<typeof makeCatalogService>;
    sync: SyncService;
    automations: Automations | undefined;
    /** WebSocket tickets, handshakes and socket messages. */
    realtime: RealtimeSessions;
    /** The one router of the event stream, to every sink below and in `Pieces.eventSinks`. */
    routeEvents: RouteEvents;
    webhooks: WebhookService;
    /** One delivery attempt: what the SQS deliverer and the local queue run. */
    deliverWebhook: DeliverWebhook;
    /** The event router's webhook sink. */
    webhookSink: EventSink;
  };
}

/**
 * Every service, each built on first use: a function that never reads `services.sync` never
 * builds the sync service, nor any adapter only it needs.
 */
export function composeHangar(pieces: Pieces): AppDependencies {
  const clock = pieces.clock ?? systemClock;
  const instances = once(() => new DynamoInstanceRepository(pieces.db));
  const clients = once(() => new DynamoClientRepository(pieces.db));
  const accountStore = once(() => new DynamoAccountRepository(pieces.db));
  const catalogStore = once(() => new DynamoCatalogRepository(pieces.db));
  const syncs = once(() => new DynamoSyncJobRepository(pieces.db));
  const secretBox = pieces.secretBox ?? refusingSecretBox;
  const providerFactory = pieces.providerFactory ?? unavailableProviderFactory;

  const accounts = once(() => makeAccountService({ accounts: accountStore(), clients: clients(), secretBox, providerFactory, clock }));
  const providers = once(() => {
    const registry = new ProviderRegistry(pieces.providers ?? []);
    if (pieces.providerFactory) {
      // Credentials are opened only when a cloud instance is first acted on.
      registry.useAccounts({ openCredentials: (c, a) => accounts().openCredentials(c, a) }, providerFactory, pieces.cloudProviders ?? ['AWS', 'OPENSTACK', 'AZURE']);
      registry.allowDeploymentAwsAccount(pieces.allowDeploymentAwsAccount ?? false);
    }
    return registry;
  });
  const catalog = once(() => makeCatalogService({ providers: providers(), accounts: accountStore(), catalog: catalogStore(), syncs: syncs() }));
  const workflows = once((): Workflows => {
    if (!pieces.workflows) throw new Error('This function was composed without workflows');
    return pieces.workflows(provisioning());
  });

  const base: ServiceDeps = lazyObject<ServiceDeps>({
    instances,
    clients,
    providers,
    clock: () => clock,
    // Through indirection: the workflows need the steps, and the steps need these deps.
    workflows: (): Workflows => ({ start: (workflow, ref, options) => workflows().start(workflow, ref, options) }),
    deadlines: () => ({ sync: (instance: Instance, before?: Instance): Promise<void> => automations()?.syncDeadline(instance, before) ?? Promise.resolve() }),
    deadlineMinuteMs: () => pieces.deadlineMinuteMs,
    launchCatalog: catalog,
  });
  const automations = once((): Automations | undefined =>
    pieces.scheduler ? makeAutomations(withExtras(base, { scheduler: pieces.scheduler, warningMinutes: pieces.deadlineWarningMinutes })) : undefined,
  );
  const provisioning = once((): ProvisioningSteps => makeProvisioningSteps(base));
  const instanceService = once(() => makeInstanceService(base));
  const sync = once((): SyncService => {
    let dispatcher: SyncDispatcher | undefined;
    const service = makeSyncService(
      withExtras(base, {
        catalog: catalogStore(),
        syncs: syncs(),
        accounts: accountStore(),
        dispatcher: { dispatch: (run: SyncRun) => (dispatcher ?? refusingSyncDispatcher).dispatch(run) },
      }),
    );
    dispatcher = pieces.syncDispatcher?.(service);
    return service;
  });

  const webhookStore = once(() => new DynamoWebhookRepository(pieces.db));
  const webhookTransport = (): WebhookTransport => pieces.webhookTransport ?? refusingWebhookTransport;
  const deliverWebhook = once(
    (): DeliverWebhook =>
      makeDeliverWebhook({
        webhooks: webhookStore(),
        transport: webhookTransport(),
        queue: { enqueue: (job, delayMs) => webhookQueue().enqueue(job, delayMs) },
        secretBox,
        clock,
        sign: signedHeaders,
        appendEvent: (subject, event) => instances().appendEvent(subject, event),
        retrySchedule: pieces.webhookRetrySchedule,
      }),
  );
  const webhookQueue = once((): WebhookQueue => (pieces.webhookQueue ?? (() => refusingWebhookQueue))((job) => deliverWebhook()(job)));
  const webhookService = once(
    (): WebhookService =>
      makeWebhookService({ webhooks: webhookStore(), clients: clients(), secretBox, transport: webhookTransport(), queue: webhookQueue(), clock, generateSecret: generateWebhookSecret }),
  );
  const webhookSink = once((): EventSink => makeWebhookSink({ webhooks: webhookStore(), queue: webhookQueue(), clock }));

  const realtimeStore = once((): RealtimeRepository => new DynamoRealtimeRepository(pieces.db));
  const realtime = once(
    (): RealtimeSessions =>
      makeRealtimeSessions({
        realtime: realtimeStore(),
        readInstance: (principal, id) => instanceService().get(principal, id),
        clients: clients(),
        clock,
        webSocketUrl: pieces.webSocketUrl,
        ticketTtlSeconds: pieces.realtimeTicketSeconds,
      }),
  );
  const eventSinks = once((): EventSink[] => [
    ...(pieces.webSocketPublisher ? [makeWebSocketSink({ realtime: realtimeStore(), publisher: pieces.webSocketPublisher, clock })] : []),
    // Webhooks wherever deliveries can be queued (the router on AWS, the local runtime).
    ...(pieces.webhookQueue ? [webhookSink()] : []),
    ...(pieces.eventSinks ?? []),
  ]);
  const routeEvents = once((): RouteEvents => makeRouteEvents({ instances: instances(), sinks: eventSinks() }));

  const services = lazyObject<AppDependencies['services']>({
    instances: instanceService,
    health: once(() => makeHealthService(base, instanceService())),
    clients: once(() => makeClientService(base)),
    business: once(() => makeBusinessServices(withExtras(base, { actions: new DynamoBusinessActionRepository(pieces.db) }))),
    provisioning,
    accounts,
    catalog,
    sync,
    automations,
    realtime,
    routeEvents,
    webhooks: webhookService,
    deliverWebhook,
    webhookSink,
  });
  const authenticator = once(() => new ApiKeyAuthenticator(clients()));
  const idempotencyStore = once(async () => (await import('../adapters/dynamodb/idempotency-store.ts')).dynamoIdempotencyStore(pieces.db));
  return withExtras(
    base,
    lazyObject<Omit<AppDependencies, keyof ServiceDeps>>({
      db: () => pieces.db,
      authenticator,
      idempotencyStore: () => idempotencyStore,
      secretBox: () => secretBox,
      providerFactory: () => providerFactory,
      services: () => services,
    }),
  ) as AppDependencies;
}

/** The name the tests and the local runtime have always used for the whole composition. */
export const buildAppDependencies = composeHangar;

/** Memoises a builder: the first call builds, every later one returns the same value. */
const refusingSecretBox: SecretBox = {
  seal: async () => {
    throw new Error('No secret box is configured in this deployment');
  },
  open: async () => {
    throw new Error('No secret box is configured in this deployment');
  },
};

const refusingWebhookTransport: WebhookTransport = {
  checkTarget: async () => {
    throw new Error('No webhook transport is configured in this deployment');
  },
  post: async () => {
    throw new Error('No webhook transport is configured in this deployment');
  },
};

const refusingWebhookQueue: WebhookQueue = {
  enqueue: async () => {
    throw new Error('No webhook queue is configured in this deployment');
  },
};

const refusingSyncDispatcher: SyncDispatcher = {
  dispatch: async () => {
    throw new Error('No sync runner is configured in this deployment');
  },
};

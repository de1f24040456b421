import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LocalProvider } from '../../shared/adapters/local/local-provider.ts';
import { LocalSecretBox } from '../../shared/adapters/local/local-secret-box.ts';
import { ExternalProvider } from '../../shared/adapters/external/external-provider.ts';
import { migrateRegistrationsFile } from '../../shared/adapters/external/registration-store.ts';
import { DynamoExternalRegistrationRepository } from '../../shared/adapters/dynamodb/external-registration-repository.ts';
import { cloudProviderFactory } from '../../shared/config/cloud-providers.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { allowDeploymentAwsAccountFromEnvironment } from '../../shared/config/env.ts';
import { httpApi } from '../../shared/http/http-api.ts';
import { workflowTask } from '../../shared/lambda/job-handlers.ts';
import { every } from './periodic.ts';
import { createDb } from '../../shared/db/db.ts';
import { backfillIndexItemsOnce } from './index-backfill.ts';
import { PLATFORM_CLIENT_ID } from '../../shared/domain/roles.ts';
import { generateApiKey, hashApiKey } from '../../shared/http/auth.ts';
import type { ApiArea } from '../../shared/http/routes.ts';
import { makeMachineWatch } from '../../shared/services/machine-watch.ts';
import { machineRefOf } from '../../shared/services/provisioning.ts';
import { dynamoDbClientConfig, ensureTable, startDynamoDbLocal } from './dynamodb-local.ts';
import { type AreaHandler, lambdaContext, startGateway } from './gateway.ts';
import { makeConsoleServer } from './console-server.ts';
import { LocalStepFunctions } from './local-step-functions.ts';
import { LocalScheduler } from './local-scheduler.ts';
import { LocalEventStream } from './local-event-stream.ts';
import { attachWebSocketGateway } from './websocket-gateway.ts';
import { LocalWebSocketPublisher } from '../../shared/adapters/local/ws-publisher.ts';
import { webSocketRoute } from '../../shared/lambda/websocket-handlers.ts';
import type { DeadlinePayload } from '../../shared/services/automations.ts';
import { inProcessSyncDispatcher } from '../../shared/adapters/local/in-process-sync.ts';
import { HttpWebhookTransport } from '../../shared/adapters/webhooks/http-transport.ts';
import { InProcessWebhookQueue } from '../../shared/adapters/webhooks/in-process-queue.ts';
import { webhookRetryScheduleFromEnvironment } from '../../shared/adapters/webhooks/settings.ts';

export interface LocalRuntimeOptions {
  port?: number;
  /** State directory (DynamoDB data, instance directories, the admin key). */
  home?: string;
  adminKey?: string;
  /** How often LOCAL processes are sampled for cpu and memory. */
  sampleIntervalMs?: number;
  /** The workflows' local pace: pauses back off from 5 ms, in all as long as this per check (their real backoff is for clouds). */
  workflowWaitMs?: number;
  /** Minutes before a deadline that the warning event is written (default 5). */
  deadlineWarningMinutes?: number;
  /** Development: how long an auto-terminate "minute" lasts (default a real minute). */
  deadlineMinuteMs?: number;
  /** How often the sweeper looks for instances past their deadline (default 2 minutes). */
  sweepIntervalMs?: number;
  /** How often every up instance is health-checked (default a minute). */
  healthIntervalMs?: number;
  /** How often catalogs sync and statuses reconcile (default 5 minutes, as on AWS). */
  syncIntervalMs?: number;
  /** Development: how long a WebSocket ticket lasts (default 60 s, as deployed). */
  realtimeTicketSeconds?: number;
  /** Delays before each webhook attempt (default HANGAR_WEBHOOK_RETRY_SCHEDULE, else the standard schedule). */
  webhookRetryScheduleMs?: readonly number[];
  log?: (line: string) => void;
}

export interface LocalRuntime {
  url: string;
  adminKey: string;
  home: string;
  deps: AppDependencies;
  stop(): Promise<void>;
}

const TABLE_NAME = 'hangar-local';
const ADMIN_KEY_ID = 'key-platform-admin';

/**
 * Hangar on one machine: DynamoDB Local, the LOCAL provider, the in-process workflow runner
 * and an HTTP gateway in front of the very handler modules Lambda runs.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? (() => undefined);
  const home = resolve(options.home ?? '.hangar');
  await mkdir(home, { recursive: true });

  const dynamo = await startDynamoDbLocal({ dataDir: join(home, 'dynamodb'), stopOnSignals: false });
  const cleanups: (() => Promise<void>)[] = [() => dynamo.stop()];
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamo.endpoint));
    await ensureTable(client, TABLE_NAME);
    const db = createDb({ tableName: TABLE_NAME, client });

    const provider = new LocalProvider({ rootDir: join(home, 'instances') });
    const { runWorkflowStep } = await import('../../functions/workflow/steps.ts');
    // The same Task handler Lambda runs, on this process's composition.
    const stepsHandler = workflowTask(() => deps, runWorkflowStep);
    const workflows = new LocalStepFunctions({
      invokeStep: (input) => stepsHandler(input as never, lambdaContext('workflow-steps')),
      waitMs: options.workflowWaitMs,
      onExecutionFailed: (name, error) => log(`workflow ${name} failed: ${(error as Error).message}`),
    });
    // Deadlines live in the table, so one that came due while the runtime was down fires at start.
    const scheduler = new LocalScheduler(db);
    let syncRunner: ReturnType<typeof inProcessSyncDispatcher> | undefined;
    let webhookQueue: InProcessWebhookQueue | undefined;
    // Sockets of the /ws gateway below: what the event router's WebSocket sink sends to.
    const webSocketPublisher = new LocalWebSocketPublisher();
    // EXTERNAL registrations live in the table, as on AWS; a file from before moves in once.
    const externalRegistrations = new DynamoExternalRegistrationRepository(db);
    const migrated = await migrateRegistrationsFile(join(home, 'external-endpoints.json'), externalRegistrations);
    if (migrated) log(`moved ${migrated} EXTERNAL registration(s) into the table; external-endpoints.json.migrated keeps the old file`);
    await backfillIndexItemsOnce(db, home, log);
    const deps: AppDependencies = composeHangar({
      db,
      webSocketPublisher,
      realtimeTicketSeconds: options.realtimeTicketSeconds,
      // LOCAL processes and registered EXTERNAL endpoints need no account; clouds do.
      providers: [provider, new ExternalProvider({ registrations: externalRegistrations })],
      providerFactory: cloudProviderFactory,
      // HANGAR_ALLOW_DEPLOYMENT_AWS_ACCOUNT=true: an AWS create without accountId uses this machine's AWS credentials.
      allowDeploymentAwsAccount: allowDeploymentAwsAccountFromEnvironment(),
      workflows: () => workflows,
      scheduler,
      deadlineMinuteMs: options.deadlineMinuteMs,
      deadlineWarningMinutes: options.deadlineWarningMinutes,
      // Provider credentials are sealed under a key made once, readable by its owner only.
      secretBox: new LocalSecretBox({ keyFile: join(home, 'secret.key') }),
      // Like an asynchronous Lambda invocation: POST /api/sync answers while the jobs run here.
      syncDispatcher: (sync) =>
        (syncRunner = inProcessSyncDispatcher((run) => sync.run(run.target, run.jobIds), { onError: (error) => log(`sync failed: ${error}`) })),
      // Receivers on this machine are allowed (deployed stages refuse loopback); retries wait on timers here.
      webhookTransport: new HttpWebhookTransport({ allowLoopback: true }),
      webhookQueue: (deliver) =>
        (webhookQueue = new InProcessWebhookQueue(
          async (job) => void (await deliver(job)),
          (error, job) => log(`webhook delivery ${job.deliveryId} failed: ${error}`),
        )),
      webhookRetrySchedule: options.webhookRetryScheduleMs ?? webhookRetryScheduleFromEnvironment(),
    });

    // The table's stream into the same router the stream Lambda runs, before anything writes.
    const eventStream = new LocalEventStream({
      dynamo: client,
      streams: new DynamoDBStreamsClient(dynamoDbClientConfig(dynamo.endpoint)),
      tableName: TABLE_NAME,
      route: (records) => deps.services.routeEvents(records),
      checkpointFile: join(home, 'event-stream.json'),
      log,
    });
    await eventStream.start();
    cleanups.unshift(() => eventStream.stop());

    const adminKey = await platformAdminKey(home, options.adminKey);
    await deps.clients.upsertApiKey({
      keyHash: hashApiKey(adminKey),
      keyId: ADMIN_KEY_ID,
      clientId: PLATFORM_CLIENT_ID,
      name: 'platform admin (local runtime)',
      role: 'platform-admin',
      prefix: adminKey.slice(0, 8),
      createdAt: new Date().toISOString(),
      version: 1,
    });

    const watch = makeMachineWatch(deps, deps.services.provisioning);
    const stopWatching = provider.onUnexpectedExit((exit) => {
      log(`instance ${exit.instanceId} stopped on its own: ${exit.reason}`);
      watch.recordUnexpectedExit(exit.instanceId, exit.reason).catch((error) => log(`could not record exit: ${error}`));
    });
    const tally = await watch.reconcileOnStart('LOCAL');
    if (tally.resumed + tally.restarted + tally.failed > 0) {
      log(`reconciled instances: ${tally.resumed} resumed, ${tally.restarted} restarted, ${tally.failed} found not running`);
    }

    const automations = deps.services.automations!;
    scheduler.start((payload) => automations.onSchedule(payload as unknown as DeadlinePayload));
    // One pass at a time each: a tick that finds the previous pass still running is skipped.
    const sweeper = every(
      options.sweepIntervalMs ?? 120_000,
      async () => {
        const terminated = await automations.sweep();
        if (terminated) log(`sweeper terminated ${terminated} instance(s) past their deadline`);
        const idleStopped = await automations.stopIdle();
        if (idleStopped) log(`stopped ${idleStopped} idle instance(s)`);
        const announced = await deps.services.business.budgets.sweep();
        if (announced) log(`announced ${announced} budget threshold(s)`);
      },
      (error) => log(`sweep failed: ${error}`),
    );
    const healthChecks = every(options.healthIntervalMs ?? 60_000, () => deps.services.health.checkAll(), (error) => log(`health checks failed: ${error}`));

    // A first sync at start, so the catalog is there before the first create; then on the cadence.
    const queuing = deps.services.sync.runScheduled().catch((error) => log(`sync failed: ${error}`));
    const syncs = every(options.syncIntervalMs ?? 5 * 60_000, () => deps.services.sync.runScheduled(), (error) => log(`sync failed: ${error}`));

    const sampler = every(options.sampleIntervalMs ?? 15_000, () => sampleRunning(deps, provider), (error) => log(`sampling failed: ${error}`));

    const handlers = await loadHandlers(deps);
    const gateway = await startGateway({ port: options.port ?? 3000, handlers, staticFiles: makeConsoleServer() });
    const webSockets = attachWebSocketGateway({ server: gateway.server, handlers: await loadWebSocketHandlers(deps), publisher: webSocketPublisher, log });

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await Promise.all([sampler.stop(), sweeper.stop(), healthChecks.stop(), syncs.stop()]);
        await scheduler.stop();
        await webSockets.close();
        await gateway.close();
        await queuing;
        await syncRunner?.settle();
        await webhookQueue?.stop();
        // Executions stop where they are; the next start resumes their instances.
        workflows.abortAll();
        await workflows.drain();
        const stopped = await watch.stopAllForShutdown('LOCAL');
        if (stopped.length) log(`stopped ${stopped.length} instance(s); they start again with the runtime`);
        stopWatching();
        provider.close();
        // Last before the table goes: the events of the shutdown itself are routed too.
        await eventStream.stop();
        await dynamo.stop();
      })());
    return { url: gateway.url, adminKey, home, deps, stop };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}

/** HANGAR_ADMIN_KEY or the given key wins; otherwise the key kept under the home, made once. */
async function platformAdminKey(home: string, given?: string): Promise<string> {
  if (given) return given;
  const file = join(home, 'admin-key');
  const existing = await readFile(file, 'utf8').then((s) => s.trim(), () => '');
  if (existing) return existing;
  const key = generateApiKey();
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

/** The very route handlers the Lambda functions export, on this process's composition. */
async function loadHandlers(deps: AppDependencies): Promise<Record<ApiArea, AreaHandler>> {
  const [publicArea, clients, instances, accounts, webhooks, realtime] = await Promise.all([
    import('../../functions/api/public.ts'),
    import('../../functions/api/clients.ts'),
    import('../../functions/api/instances.ts'),
    import('../../functions/api/accounts.ts'),
    import('../../functions/api/webhooks.ts'),
    import('../../functions/api/realtime.ts'),
  ]);
  const local = () => deps;
  return {
    public: httpApi('public', publicArea.routes),
    clients: httpApi('clients', clients.routes, local),
    instances: httpApi('instances', instances.routes, local),
    accounts: httpApi('accounts', accounts.routes, local),
    webhooks: httpApi('webhooks', webhooks.routes, local),
    realtime: httpApi('realtime', realtime.routes, local),
  } as Record<ApiArea, AreaHandler>;
}

/** The very functions the WebSocket API's routes run, on this process's composition. */
async function loadWebSocketHandlers(deps: AppDependencies) {
  const [connect, disconnect, message] = await Promise.all([
    import('../../functions/websocket/connect.ts'),
    import('../../functions/websocket/disconnect.ts'),
    import('../../functions/websocket/message.ts'),
  ]);
  const local = () => deps;
  return {
    connect: webSocketRoute(local, connect.connect),
    disconnect: webSocketRoute(local, disconnect.disconnect),
    message: webSocketRoute(local, message.receive),
  };
}

/** Up LOCAL instances only (the status index's sort key starts with the provider), a page at a time. */
async function sampleRunning(deps: AppDependencies, provider: LocalProvider): Promise<void> {
  for (const status of ['READY', 'RUNNING'] as const) {
    for await (const page of deps.instances.statusPages(status, { provider: 'LOCAL' })) {
      for (const instance of page) {
        const sample = await provider.sample(machineRefOf(instance));
        if (sample) await deps.instances.recordSample(instance.id, sample);
      }
    }
  }
}


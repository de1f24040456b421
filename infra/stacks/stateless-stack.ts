import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { Automations } from '../constructs/automations.ts';
import { WebConsole } from '../constructs/console.ts';
import { grantPublish, WebhookDelivery } from '../constructs/event-delivery.ts';
import { InstancesApi } from '../constructs/instances-api.ts';
import { OperatorAlarms } from '../constructs/operator-alarms.ts';
import { ProvisioningWorkflow } from '../constructs/provisioning-workflow.ts';
import { Realtime } from '../constructs/realtime.ts';
import { WORKFLOWS } from '../../shared/workflows/definitions.ts';
import type { StageConfig } from '../stage.ts';

export interface StatelessStackProps extends StackProps {
  readonly stage: StageConfig;
  /** The table from the stateful stack. */
  readonly table: ITableV2;
  /** The key that seals provider-account credentials, from the stateful stack. */
  readonly secretsKey: IKey;
  /** The stage's event bus, from the stateful stack: the event router publishes every event on it. */
  readonly eventBus: IEventBus;
  /** Subscribed to the operators' alarm topic (context `alarmEmail`). @default no subscription */
  readonly alarmEmail?: string;
  /** Reserved concurrency of the sync fan-out (context `syncConcurrency`). @default Automations' default */
  readonly syncConcurrency?: number;
}

/** Everything that can be redeployed or replaced without losing data: functions, the API, the workflows, the automations. */
export class StatelessStack extends Stack {
  readonly api: InstancesApi;
  readonly workflows: ProvisioningWorkflow;
  readonly automations: Automations;
  readonly alarms: OperatorAlarms;
  readonly webhooks: WebhookDelivery;
  readonly console?: WebConsole;
  readonly realtime: Realtime;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stage, table, secretsKey } = props;
    const deployment = `hangar-${stage.name}`;

    // Shared by every function of the stage: API areas and workflow steps.
    const environment = {
      HANGAR_STAGE: stage.name,
      // Stamped on every cloud machine, so stages sharing a cloud account never see each other's as orphans.
      HANGAR_DEPLOYMENT: deployment,
      HANGAR_RUNTIME: 'aws',
      // An AWS create without accountId may use the functions' own role (docs/deploy.md).
      HANGAR_ALLOW_DEPLOYMENT_AWS_ACCOUNT: String(stage.allowDeploymentAwsAccount),
      POWERTOOLS_SERVICE_NAME: 'hangar',
    };

    this.workflows = new ProvisioningWorkflow(this, 'Workflows', {
      table,
      secretsKey,
      namePrefix: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });

    this.api = new InstancesApi(this, 'InstancesApi', {
      table,
      secretsKey,
      apiName: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });
    // The web console (deploy with -c console=true): its bucket and /api behind one CloudFront origin.
    if (['true', true].includes(this.node.tryGetContext('console'))) {
      this.console = new WebConsole(this, 'Console', { httpApi: this.api.httpApi, stageName: stage.name, removalPolicy: stage.removalPolicy });
      new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The web console: sign in with an API key' });
    }
    // Every lifecycle action the API accepts runs as an execution of one of the workflows.
    this.workflows.grantStart(this.api.functions.instances);

    this.automations = new Automations(this, 'Automations', {
      table,
      secretsKey,
      workflows: this.workflows,
      namePrefix: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
      syncConcurrency: props.syncConcurrency ?? numberContext(this, 'syncConcurrency'),
    });
    // Activate and extend set an instance's deadline schedule (instances API, provisioning steps);
    // terminate cancels it. The auto-terminate function is the schedules' target.
    this.automations.grantScheduling(this.api.functions.instances);
    this.automations.grantScheduling(this.workflows.stepsFunction);
    // POST /api/sync and a new account queue sync jobs; the sync function runs them.
    this.automations.grantSyncDispatch(this.api.functions.accounts);

    // Cloud machines, through the deployment's own role or a role account's (see compute-access.ts):
    // the steps launch and act on them, the sync ends orphans, the others only look.
    this.workflows.stepsFunction.bindCompute('OPERATE', deployment);
    this.automations.syncFunction.bindCompute('RECONCILE', deployment);
    this.automations.healthCheckFunction.bindCompute('OBSERVE', deployment);
    // Check-now health checks; the connection test and the live catalog of an account.
    this.api.functions.instances.bindCompute('OBSERVE', deployment);
    this.api.functions.accounts.bindCompute('OBSERVE', deployment);

    // Signed webhooks: the test-event route enqueues, the deliverer consumes (the router enqueues too).
    this.webhooks = new WebhookDelivery(this, 'Webhooks', {
      table,
      secretsKey,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });
    this.webhooks.grantEnqueue(this.api.functions.webhooks);

    // The WebSocket API and the event router on the table's stream; tickets point at its stage.
    this.realtime = new Realtime(this, 'Realtime', {
      table,
      namePrefix: deployment,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });
    this.realtime.bindTicketIssuer(this.api.functions.realtime);
    // The router also puts every event on the stage's bus and queues webhook deliveries.
    grantPublish(props.eventBus, this.realtime.router);
    this.webhooks.grantEnqueue(this.realtime.router);

    this.alarms = new OperatorAlarms(this, 'Alarms', {
      namePrefix: deployment,
      metricNamespace: `Hangar/${stage.name}`,
      email: props.alarmEmail ?? stringContext(this, 'alarmEmail'),
    });
    this.alarms.watchQueue(
      'DeadlineDeadLetters',
      this.automations.deadLetterQueue,
      'Deadline schedules that EventBridge Scheduler could not deliver: those instances were not auto-terminated on time ' +
        '(the sweeper retries within 5 minutes). The messages name the instances.',
    );
    this.alarms.watchQueue(
      'SyncFailures',
      this.automations.syncFailureQueue,
      'Sync runs that failed after Lambda retried them twice, or waited over an hour: the messages carry the target and the error.',
    );
    this.alarms.watchQueue(
      'WebhookDeadLetters',
      this.webhooks.deadLetterQueue,
      'Webhook delivery jobs the deliverer failed to process five times (the table or KMS failing, not receivers): ' +
        'their deliveries stay pending in the log; the messages name client and delivery.',
    );
    this.alarms.watchBacklog(
      'WebhookBacklog',
      this.webhooks.queue,
      Duration.minutes(30),
      'A webhook delivery job has waited over 30 minutes (retries re-queue with at most 15 minutes of delay): the deliverer ' +
        'is failing or throttled, and every endpoint of every client is receiving late.',
    );
    this.alarms.watchQueue(
      'EventRouterFailures',
      this.realtime.routerFailureQueue,
      'Stream batches the event router failed to route after bisection and retries: their events did not reach WebSockets, ' +
        'webhooks or the bus. The messages give the shard and sequence range; the events themselves stay in the event log.',
    );
    for (const workflow of WORKFLOWS) {
      this.alarms.watchStateMachine(
        `${pascal(workflow)}ExecutionsFailed`,
        this.workflows.stateMachines[workflow],
        `${pascal(workflow)} executions failed or timed out: their instances are in ERROR, their events say why.`,
      );
    }
    this.alarms.watchFunction(
      'SyncErrors',
      this.automations.syncFunction,
      'The sync function failed, or recorded a sync job FAILED (GET /api/sync-jobs lists the errors).',
      // Logged by functions/automation/sync.ts for every job a run recorded FAILED.
      { metricName: 'SyncJobsFailed', message: 'Sync job failed' },
    );

    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'SNS topic of the operator alarms: subscribe to it (or deploy with -c alarmEmail=…)',
    });
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.realtime.url,
      description: 'The WebSocket API (open it with the url of a ticket from POST /api/realtime/tickets)',
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the Hangar API (routes start with /api)',
    });
  }
}

const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

function stringContext(scope: Construct, key: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`Context ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function numberContext(scope: Construct, key: string): number | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`Context ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

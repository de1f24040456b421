import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { CfnScheduleGroup, Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { failureQueue } from './failure-queue.ts';
import { DEADLINE_SCHEDULER_VARIABLES } from '../../shared/adapters/aws/eventbridge-scheduler.ts';
import { SYNC_FUNCTION_VARIABLE } from '../../shared/adapters/aws/lambda-sync-dispatcher.ts';
import { nagResource } from './nag.ts';
import { ProjectFunction } from './project-function.ts';
import type { ProvisioningWorkflow } from './provisioning-workflow.ts';

/** What the EventBridge Scheduler adapter calls (shared/adapters/aws/eventbridge-scheduler.ts): no Get, no List, no group management. */
const SCHEDULING_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'];

export interface AutomationsProps {
  readonly table: ITableV2;
  /**
   * Terminating, describing and listing machines build a provider from an account, so every
   * function here opens sealed credentials with this key.
   */
  readonly secretsKey: IKey;
  /** The lifecycle workflows: auto-terminate and the sweeper start the terminate machine through `grantStart`. */
  readonly workflows: ProvisioningWorkflow;
  /**
   * Names: the group `<namePrefix>-deadlines`, the target function `<namePrefix>-auto-terminate`,
   * the sweeper schedule `<namePrefix>-sweep-deadlines`, the health check schedule
   * `<namePrefix>-check-health`, the sync function and its schedule `<namePrefix>-sync`, e.g.
   * `hangar-dev-deadlines`.
   */
  readonly namePrefix: string;
  /** Environment of the functions (stage, runtime flavour…); TABLE_NAME and SECRETS_KMS_KEY_ID come from the binds. */
  readonly environment?: Record<string, string>;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Reserved concurrency of the sync function: at most this many targets sync at once, however many
   * accounts the fan-out finds, so a sync never starves the API and workflow functions of the
   * account's concurrency nor floods the providers. Throttled asynchronous invocations wait in
   * Lambda's queue and are retried (up to the hour they may age). @default 4
   */
  readonly syncConcurrency?: number;
}

/** See AutomationsProps.syncConcurrency. */
export const DEFAULT_SYNC_CONCURRENCY = 4;

/**
 * Auto-terminate, health checks and sync. Each instance deadline is a one-time EventBridge Scheduler
 * schedule that the functions given `grantScheduling` create, move and delete at run time in the
 * stage's schedule group; it invokes the auto-terminate function, as a role that may invoke that
 * function and send to the dead-letter queue, and nothing else. A sweeper runs every five minutes
 * as the backstop for a schedule that was lost. The health checker runs every minute and asks the
 * provider about every up instance. The sync runs every five minutes: it queues jobs per target
 * (an account in a region) and runs each target's jobs in an asynchronous invocation of itself.
 */
export class Automations extends Construct {
  /** Holds the run-time deadline schedules only (the sweeper's, health checker's and sync's schedules live in the default group). */
  readonly scheduleGroup: ScheduleGroup;
  /** The target of every deadline schedule (`functions/automation/auto-terminate.ts`). */
  readonly autoTerminateFunction: ProjectFunction;
  /** `functions/automation/sweep-deadlines.ts`, every five minutes. */
  readonly sweepFunction: ProjectFunction;
  readonly sweepSchedule: Schedule;
  /** `functions/automation/check-health.ts`, every minute. */
  readonly healthCheckFunction: ProjectFunction;
  readonly healthCheckSchedule: Schedule;
  /**
   * `functions/automation/sync.ts`, named `<namePrefix>-sync`: every five minutes it queues the jobs
   * of every target, then runs each target's in an asynchronous invocation of itself.
   */
  readonly syncFunction: ProjectFunction;
  readonly syncSchedule: Schedule;
  /** Asynchronous sync invocations that still failed after Lambda's retries, with their payload and error. */
  readonly syncFailureQueue: Queue;
  /** Deadline deliveries that exhausted their retries. */
  readonly deadLetterQueue: Queue;
  /** The role EventBridge Scheduler assumes to deliver deadline schedules. */
  readonly schedulerRole: Role;
  /**
   * The auto-terminate function's ARN, built from its fixed name rather than referenced: the steps
   * function needs it to schedule, and the auto-terminate function already depends on the steps
   * function through the terminate machine, so a reference would be a CloudFormation cycle.
   */
  readonly targetArn: string;

  private readonly groupName: string;
  private readonly syncFunctionName: string;

  constructor(scope: Construct, id: string, props: AutomationsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.groupName = `${props.namePrefix}-deadlines`;
    this.scheduleGroup = new ScheduleGroup(this, 'DeadlineGroup', {
      scheduleGroupName: this.groupName,
      // Schedules are derived from the instances' deadlines in the table, and the sweeper catches
      // any that go missing, so nothing is lost with the group. A retained group would also keep
      // its fixed name taken and block redeploying the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const functionProps = {
      environment: props.environment,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    };
    const autoTerminateName = `${props.namePrefix}-auto-terminate`;
    this.autoTerminateFunction = new ProjectFunction(this, 'AutoTerminateFunction', {
      ...functionProps,
      entry: 'functions/automation/auto-terminate.ts',
      functionName: autoTerminateName,
      description: 'Hangar automations: terminates an instance when its deadline schedule fires',
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    props.workflows.grantStart(this.autoTerminateFunction);
    this.targetArn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: autoTerminateName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.sweepFunction = new ProjectFunction(this, 'SweepFunction', {
      ...functionProps,
      entry: 'functions/automation/sweep-deadlines.ts',
      description: 'Hangar automations: terminates live instances whose deadline passed without its schedule firing',
      // Reads only the due entries; each termination is a table write and an execution start.
      timeout: Duration.seconds(60),
      // One pass at a time: a tick that finds the previous pass still running waits (see below).
      reservedConcurrentExecutions: 1,
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    props.workflows.grantStart(this.sweepFunction);

    this.healthCheckFunction = new ProjectFunction(this, 'HealthCheckFunction', {
      ...functionProps,
      entry: 'functions/automation/check-health.ts',
      description: 'Hangar automations: asks the provider about every up instance and records its health',
      // Describes every up instance through its provider account, a page at a time and eight at
      // once; it has to end before the next run, a minute later.
      timeout: Duration.seconds(50),
      reservedConcurrentExecutions: 1,
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    // No grantStart: a health check records what it sees and never starts a workflow.

    // Schedules invoke these two asynchronously. With one execution reserved, a tick that comes
    // while the previous pass runs is throttled and Lambda holds it back; held back longer than a
    // minute it is dropped, as the next tick makes it moot. So passes never run side by side, and
    // a slow pass never leaves a queue of passes behind it.
    for (const pass of [this.sweepFunction, this.healthCheckFunction]) {
      pass.function.configureAsyncInvoke({ maxEventAge: Duration.minutes(1), retryAttempts: 0 });
    }

    this.syncFunctionName = `${props.namePrefix}-sync`;
    this.syncFunction = new ProjectFunction(this, 'SyncFunction', {
      ...functionProps,
      entry: 'functions/automation/sync.ts',
      // Fixed, so the function can name itself: see grantSyncDispatch.
      functionName: this.syncFunctionName,
      description: 'Hangar automations: syncs provider catalogs and reconciles instance statuses, one target per invocation',
      // One invocation runs every job of a target in turn: a full catalog listing per kind, then
      // the target's machines, each through the provider's API.
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: props.syncConcurrency ?? DEFAULT_SYNC_CONCURRENCY,
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    // No grantStart: reconciliation corrects records itself (and terminates orphans at the
    // provider), never through a workflow. It may schedule deadlines too (grantScheduling, below).
    this.grantSyncDispatch(this.syncFunction);

    this.syncFailureQueue = failureQueue(
      this,
      'SyncFailureQueue',
      'This queue is itself where failed asynchronous invocations of the sync function go (its on-failure ' +
        'destination). A dead-letter queue behind it would only move the same failed runs once more.',
    );
    // The schedule and the dispatcher both invoke asynchronously, so after Lambda's retries a failed
    // run would be dropped; its record (the target, the job ids, the error) goes to the queue instead.
    // A retried `{ run }` runs only the jobs still QUEUED. After an hour, twelve newer runs have queued
    // the same work.
    this.syncFunction.function.configureAsyncInvoke({
      onFailure: new SqsDestination(this.syncFailureQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    this.deadLetterQueue = failureQueue(
      this,
      'DeadLetterQueue',
      'This queue is itself the dead-letter queue of the deadline schedules (EventBridge Scheduler DeadLetterConfig, ' +
        'set at run time by the scheduler adapter, which cdk-nag cannot see). A dead-letter queue of a dead-letter queue ' +
        'would only move the same undelivered deadlines once more.',
    );

    // Named only in the environment of the scheduling functions, and passed by them to every
    // schedule they create; only Scheduler, for schedules of this account's deadline group, may assume it.
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
      description: `Assumed by EventBridge Scheduler to deliver the deadline schedules of ${this.groupName}`,
    });
    // The unqualified ARN the schedules target, so no `:*` for versions or aliases.
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.targetArn] }),
    );
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    // A drift or a ghost the sync corrects moves or cancels that instance's deadline schedules.
    this.grantScheduling(this.syncFunction);

    // The recurring schedules are made at deploy time and live in the default group, out of reach of
    // the `schedule/<group>/*` rights `grantScheduling` hands out. Each has a role of its own, so the
    // deadline role can invoke the auto-terminate function and nothing else. Failed deliveries are not
    // dead-lettered: the next run covers the same work.
    this.sweepSchedule = this.recurringSchedule('Sweep', {
      function: this.sweepFunction,
      scheduleName: `${props.namePrefix}-sweep-deadlines`,
      description: 'Hangar automations: terminate instances past a deadline whose schedule never fired',
      roleDescription: `Assumed by EventBridge Scheduler to run the deadline sweeper of ${props.namePrefix}`,
      what: 'sweeper',
      every: Duration.minutes(5),
      // A delivery later than the next run is pointless: give up before it.
      retryAttempts: 2,
      maxEventAge: Duration.minutes(4),
    });
    this.healthCheckSchedule = this.recurringSchedule('HealthCheck', {
      function: this.healthCheckFunction,
      scheduleName: `${props.namePrefix}-check-health`,
      description: 'Hangar automations: check the health of every up instance',
      roleDescription: `Assumed by EventBridge Scheduler to run the health checker of ${props.namePrefix}`,
      what: 'health check',
      every: Duration.minutes(1),
      // One retry, given up after 60 s (the least EventBridge Scheduler accepts): the next run is
      // a minute later and checks the same instances anyway.
      retryAttempts: 1,
      maxEventAge: Duration.seconds(60),
    });
    this.syncSchedule = this.recurringSchedule('Sync', {
      function: this.syncFunction,
      scheduleName: `${props.namePrefix}-sync`,
      description: 'Hangar automations: sync the catalogs and reconcile the instances of every provider account',
      roleDescription: `Assumed by EventBridge Scheduler to run the sync of ${props.namePrefix}`,
      what: 'sync',
      every: Duration.minutes(5),
      // `{}` is what tells the handler to queue and fan out, rather than run one target's jobs.
      input: ScheduleTargetInput.fromObject({}),
      // As for the sweeper: the next run, five minutes later, queues the same work.
      retryAttempts: 2,
      maxEventAge: Duration.minutes(4),
    });
  }

  /**
   * A schedule in the default group that invokes `options.function` every `options.every`, as a
   * role (`<id>SchedulerRole`) that only Scheduler, from this account and for schedules of the
   * default group, may assume, and that may invoke that function and nothing else.
   */
  private recurringSchedule(
    id: string,
    options: {
      function: ProjectFunction;
      scheduleName: string;
      description: string;
      roleDescription: string;
      /** How the acknowledgement names the function: `sweeper`, `health check`, `sync`. */
      what: string;
      every: Duration;
      /** The event the function receives. @default none */
      input?: ScheduleTargetInput;
      retryAttempts: number;
      maxEventAge: Duration;
    },
  ): Schedule {
    const stack = Stack.of(this);
    const role = new Role(this, `${id}SchedulerRole`, {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          },
        },
      }),
      description: options.roleDescription,
    });
    const schedule = new Schedule(this, `${id}Schedule`, {
      scheduleName: options.scheduleName,
      description: options.description,
      schedule: ScheduleExpression.rate(options.every),
      target: new LambdaInvoke(options.function.function, {
        role,
        input: options.input,
        retryAttempts: options.retryAttempts,
        maxEventAge: options.maxEventAge,
      }),
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(this, `${options.function.function.functionArn}:*`)}]`,
      reason:
        'Added by the LambdaInvoke target, which grants through grantInvoke: beside the unqualified ARN the schedule ' +
        `invokes, it allows <${options.what} ARN>:* (versions and aliases of the same function). The role can invoke the ` +
        `${options.what} function and nothing else.`,
    });
    return schedule;
  }

  /**
   * Sets `DEADLINE_SCHEDULE_GROUP`, `DEADLINE_TARGET_ARN`, `DEADLINE_SCHEDULER_ROLE_ARN` and
   * `DEADLINE_DEAD_LETTER_ARN` (the names the EventBridge Scheduler adapter reads) on `fn`, and lets
   * it create, update and delete schedules in the deadline group and pass the scheduler role to
   * them, in one call.
   */
  grantScheduling(fn: ProjectFunction): this {
    const v = DEADLINE_SCHEDULER_VARIABLES;
    // By reference (Ref of a schedule group is its name), not the literal name: the function is then
    // updated only once the group exists, so no request schedules into a group still being created.
    fn.function.addEnvironment(v.groupName, (this.scheduleGroup.node.defaultChild as CfnScheduleGroup).ref);
    fn.function.addEnvironment(v.targetArn, this.targetArn);
    fn.function.addEnvironment(v.roleArn, this.schedulerRole.roleArn);
    fn.function.addEnvironment(v.deadLetterArn, this.deadLetterQueue.queueArn);

    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: SCHEDULING_ACTIONS, resources: [this.schedulesArn] }));
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );

    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(this, this.schedulesArn)}]`,
      reason:
        'Deadline schedules are created at run time, one per instance and named after it, so their names are not ' +
        `known at deploy time: schedule/${this.groupName}/* is scoped to the stage's deadline group, and the actions ` +
        'to CreateSchedule, UpdateSchedule and DeleteSchedule.',
    });
    return this;
  }

  /**
   * Sets `SYNC_FUNCTION_NAME` (what the Lambda sync dispatcher reads) on `fn` and lets it invoke the
   * sync function and nothing else, in one call: for the functions that queue sync jobs.
   */
  grantSyncDispatch(fn: ProjectFunction): this {
    // The sync function fans out to itself. A reference to its own name or ARN, in its environment or
    // in its role's policy (which the function depends on), would be a CloudFormation cycle, so it
    // gets the fixed name and the ARN built from it. Other functions get references, so they are
    // updated only once the function they dispatch to exists.
    const self = fn === this.syncFunction;
    const target = this.syncFunction.function;
    fn.function.addEnvironment(SYNC_FUNCTION_VARIABLE, self ? this.syncFunctionName : target.functionName);
    // The unqualified ARN the dispatcher invokes, so no `:*` for versions or aliases.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [self ? this.syncFunctionArn : target.functionArn] }),
    );
    return this;
  }

  /** `arn:…:lambda:<region>:<account>:function:<namePrefix>-sync`, without a reference to the function. */
  private get syncFunctionArn(): string {
    return Stack.of(this).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: this.syncFunctionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** `arn:…:scheduler:<region>:<account>:schedule/<group>/*`: every schedule of the deadline group. */
  private get schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}

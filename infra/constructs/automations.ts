import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnScheduleGroup, Schedule, ScheduleExpression, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEADLINE_SCHEDULER_VARIABLES } from '../../shared/adapters/aws/eventbridge-scheduler.ts';
import { ProjectFunction } from './project-function.ts';
import type { ProvisioningWorkflow } from './provisioning-workflow.ts';

/** What the EventBridge Scheduler adapter calls (shared/adapters/aws/eventbridge-scheduler.ts): no Get, no List, no group management. */
const SCHEDULING_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'];

export interface AutomationsProps {
  readonly table: ITableV2;
  /** Terminating builds a provider from the instance's account, so both functions open sealed credentials with this key. */
  readonly secretsKey: IKey;
  /** The lifecycle workflows: both functions start the terminate machine through `grantStart`. */
  readonly workflows: ProvisioningWorkflow;
  /**
   * Names: the group `<namePrefix>-deadlines`, the target function `<namePrefix>-auto-terminate`,
   * the sweeper schedule `<namePrefix>-sweep-deadlines`, e.g. `hangar-dev-deadlines`.
   */
  readonly namePrefix: string;
  /** Environment of both functions (stage, runtime flavour…); TABLE_NAME and SECRETS_KMS_KEY_ID come from the binds. */
  readonly environment?: Record<string, string>;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Auto-terminate. Each instance deadline is a one-time EventBridge Scheduler schedule that the
 * functions given `grantScheduling` create, move and delete at run time in the stage's schedule
 * group; it invokes the auto-terminate function, as a role that may invoke that function and send
 * to the dead-letter queue, and nothing else. A sweeper runs every five minutes as the backstop
 * for a schedule that was lost.
 */
export class Automations extends Construct {
  /** Holds the run-time deadline schedules only (the sweeper's schedule lives in the default group). */
  readonly scheduleGroup: ScheduleGroup;
  /** The target of every deadline schedule (`functions/automation/auto-terminate.ts`). */
  readonly autoTerminateFunction: ProjectFunction;
  /** `functions/automation/sweep-deadlines.ts`, every five minutes. */
  readonly sweepFunction: ProjectFunction;
  readonly sweepSchedule: Schedule;
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
      // Walks every live instance; each termination is a table write and an execution start.
      timeout: Duration.seconds(60),
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');
    props.workflows.grantStart(this.sweepFunction);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      // SQS-managed keys: a customer key would also need kms grants to the scheduler role.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the deadline schedules (EventBridge Scheduler DeadLetterConfig, ' +
        'set at run time by the scheduler adapter, which cdk-nag cannot see). A dead-letter queue of a dead-letter queue ' +
        'would only move the same undelivered deadlines once more.',
    });

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

    // The sweeper's schedule is made at deploy time and lives in the default group, out of reach of
    // the `schedule/<group>/*` rights `grantScheduling` hands out. It has a role of its own, so the
    // deadline role can invoke the auto-terminate function and nothing else. Failed sweeps are not
    // dead-lettered: the next run, five minutes later, covers the same instances.
    const sweepRole = new Role(this, 'SweepSchedulerRole', {
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
      description: `Assumed by EventBridge Scheduler to run the deadline sweeper of ${props.namePrefix}`,
    });
    this.sweepSchedule = new Schedule(this, 'SweepSchedule', {
      scheduleName: `${props.namePrefix}-sweep-deadlines`,
      description: 'Hangar automations: terminate instances past a deadline whose schedule never fired',
      schedule: ScheduleExpression.rate(Duration.minutes(5)),
      target: new LambdaInvoke(this.sweepFunction.function, {
        role: sweepRole,
        // A delivery later than the next run is pointless: give up before it.
        retryAttempts: 2,
        maxEventAge: Duration.minutes(4),
      }),
    });
    Validations.of(sweepRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(this, `${this.sweepFunction.function.functionArn}:*`)}]`,
      reason:
        'Added by the LambdaInvoke target, which grants through grantInvoke: beside the unqualified ARN the schedule ' +
        'invokes, it allows <sweeper ARN>:* (versions and aliases of the same function). The role can invoke the ' +
        'sweeper function and nothing else.',
    });
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

/**
 * A resource as cdk-nag names it in a finding (`<AWS::Region>`, `<Fn123.Arn>`), so that an
 * acknowledgement covers that resource alone, whether or not the stack's account and region are known.
 */
function nagResource(scope: Construct, value: string): string {
  const part = (token: unknown): string => {
    if (typeof token === 'string') return token;
    const ref = (token as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const attribute = (token as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (attribute) return `<${attribute[0]}.${attribute[1]}>`;
    const join = (token as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(part).join(join[0]);
    throw new Error(`No cdk-nag name for ${JSON.stringify(token)}`);
  };
  return part(Stack.of(scope).resolve(value));
}

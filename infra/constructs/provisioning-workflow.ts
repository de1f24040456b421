import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stateMachineArnVariable } from '../../shared/adapters/aws/step-functions-workflows.ts';
import { DEFINITIONS, WORKFLOWS, type WorkflowName } from '../../shared/workflows/definitions.ts';
import { ProjectFunction } from './project-function.ts';

export interface ProvisioningWorkflowProps {
  readonly table: ITableV2;
  /** Steps build providers from accounts, so they open (never seal) sealed credentials with this key. */
  readonly secretsKey: IKey;
  /** State machines are named `<namePrefix>-<workflow>`, e.g. `hangar-dev-provision`. */
  readonly namePrefix: string;
  /** Environment of the steps function (stage, runtime flavour…); TABLE_NAME and SECRETS_KMS_KEY_ID come from the binds. */
  readonly environment?: Record<string, string>;
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The lifecycle workflows: one Standard state machine per workflow of `shared/workflows/definitions.ts`
 * (the same ASL the local runtime executes), every Task state invoking the one steps function.
 * Each machine has its own role, which may invoke that function and nothing else, its own log
 * group, and X-Ray tracing. `grantStart` hands a function the machines' ARNs and the right to
 * start them, in one call.
 */
export class ProvisioningWorkflow extends Construct {
  readonly stepsFunction: ProjectFunction;
  readonly stateMachines: Record<WorkflowName, StateMachine>;

  constructor(scope: Construct, id: string, props: ProvisioningWorkflowProps) {
    super(scope, id);

    this.stepsFunction = new ProjectFunction(this, 'StepsFunction', {
      entry: 'functions/workflow/steps.ts',
      description: 'Hangar workflows: every Task state of the lifecycle state machines',
      // A step makes a few provider and table calls; polling happens in Wait states, not here.
      timeout: Duration.seconds(60),
      environment: props.environment,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      .bindTable(props.table, 'RW')
      .bindSecrets(props.secretsKey, 'OPEN');

    const machines: Partial<Record<WorkflowName, StateMachine>> = {};
    for (const workflow of WORKFLOWS) {
      machines[workflow] = this.stateMachineFor(workflow, props);
    }
    this.stateMachines = machines as Record<WorkflowName, StateMachine>;
  }

  /**
   * Sets `PROVISION_STATE_MACHINE_ARN`, `TERMINATE_STATE_MACHINE_ARN`, … (the names the Step
   * Functions adapter reads) on `fn` and lets it start executions of exactly these machines.
   */
  grantStart(fn: ProjectFunction): this {
    for (const workflow of WORKFLOWS) {
      fn.function.addEnvironment(stateMachineArnVariable(workflow), this.stateMachines[workflow].stateMachineArn);
    }
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: WORKFLOWS.map((workflow) => this.stateMachines[workflow].stateMachineArn),
      }),
    );
    return this;
  }

  private stateMachineFor(workflow: WorkflowName, props: ProvisioningWorkflowProps): StateMachine {
    const id = `${workflow.charAt(0).toUpperCase()}${workflow.slice(1)}`;
    const name = `${props.namePrefix}-${workflow}`;

    // Under /aws/vendedlogs/ so that Step Functions' log delivery reuses one CloudWatch Logs resource
    // policy entry for every group instead of adding one per group (that policy is capped at 5,120
    // characters per account and region, which a few stages of five machines would reach). The stack
    // id suffix keeps the name free when a retained group outlives a deleted stack.
    const logGroup = new LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/vendedlogs/states/${name}-${Fn.select(2, Fn.split('/', Stack.of(this).stackId))}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    const machine = new StateMachine(this, `${id}StateMachine`, {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(JSON.stringify(DEFINITIONS[workflow])),
      definitionSubstitutions: { StepsFunctionArn: this.stepsFunction.function.functionArn },
      // Every state transition, without inputs and outputs: the events show where an execution
      // went and why it failed, while step results and provider error texts stay in the execution
      // history (kept 90 days) and the instance's own events, not copied into a second store.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // A string definition carries no grants (only chained CDK tasks do). The definitions call the
    // unqualified function ARN, so that ARN alone is granted: no `:*` for versions or aliases.
    machine.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.stepsFunction.function.functionArn] }),
    );

    Validations.of(machine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by logging and tracing: the CloudWatch Logs delivery actions Step Functions uses to set up log ' +
        'delivery (logs:CreateLogDelivery, logs:PutResourcePolicy, logs:DescribeLogGroups, …) and xray:PutTraceSegments, ' +
        'xray:PutTelemetryRecords, xray:GetSamplingRules, xray:GetSamplingTargets support no resource-level ' +
        'permissions, so AWS requires Resource "*" for them. lambda:InvokeFunction is scoped to the steps function.',
    });
    return machine;
  }
}

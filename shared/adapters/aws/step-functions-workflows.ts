import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { requireEnv } from '../../config/env.ts';
import type { InstanceRef, WorkflowOptions, Workflows } from '../../ports/workflows.ts';
import { WORKFLOWS, type WorkflowInput, type WorkflowName } from '../../workflows/definitions.ts';

/** Created once per container, on first use; the SDK's own retries and endpoint resolution apply. */
let sharedClient: SFNClient | undefined;
const defaultClient = () => (sharedClient ??= new SFNClient({}));

export type StateMachineArns = Record<WorkflowName, string>;

/** `PROVISION_STATE_MACHINE_ARN`, `TERMINATE_STATE_MACHINE_ARN`, … as the CDK app sets them. */
export function stateMachineArnsFromEnvironment(): StateMachineArns {
  return Object.fromEntries(WORKFLOWS.map((w) => [w, requireEnv(stateMachineArnVariable(w))])) as StateMachineArns;
}

export const stateMachineArnVariable = (workflow: WorkflowName) => `${workflow.toUpperCase()}_STATE_MACHINE_ARN`;

/**
 * Execution names carry the instance id, the workflow and the instance version (base 36), so
 * starting the same workflow twice for one change is refused by Step Functions itself (names
 * are unique per state machine for 90 days). The longest id (64) leaves room within 80.
 */
export const executionName = (workflow: WorkflowName, ref: InstanceRef) =>
  `${ref.instanceId}_${workflow}_${(ref.version ?? 0).toString(36)}`;

export function workflowInput(ref: InstanceRef, options: WorkflowOptions = {}): WorkflowInput {
  // Every field a definition reads is always present: a missing JSONPath fails the execution.
  return { clientId: ref.clientId, instanceId: ref.instanceId, force: options.force === true, hard: options.hard === true };
}

export class StepFunctionsWorkflows implements Workflows {
  private resolved: StateMachineArns | undefined;

  /**
   * `arns` may be a function: only the functions that start workflows carry the ARNs, and
   * the steps function cannot (its machines reference it), so they are read on first use.
   */
  constructor(
    private readonly arns: StateMachineArns | (() => StateMachineArns),
    private readonly injectedClient?: SFNClient,
  ) {}

  private get client(): SFNClient {
    return this.injectedClient ?? defaultClient();
  }

  /** As the CDK app configures it; the ARNs are read on first use. */
  static fromEnvironment(): StepFunctionsWorkflows {
    return new StepFunctionsWorkflows(stateMachineArnsFromEnvironment);
  }

  private arnOf(workflow: WorkflowName): string {
    this.resolved ??= typeof this.arns === 'function' ? this.arns() : this.arns;
    return this.resolved[workflow];
  }

  async start(workflow: WorkflowName, ref: InstanceRef, options?: WorkflowOptions): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.arnOf(workflow),
          name: executionName(workflow, ref),
          input: JSON.stringify(workflowInput(ref, options)),
        }),
      );
    } catch (error) {
      // Same name and input: this change's workflow is already running; that is the point.
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
  }
}

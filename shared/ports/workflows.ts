import type { WorkflowName } from '../workflows/definitions.ts';

export interface InstanceRef {
  clientId: string;
  instanceId: string;
  /** The instance version the workflow was started for: names its execution, so a duplicate start is refused. */
  version?: number;
}

export interface WorkflowOptions {
  /** stop: cut the machine off instead of asking it to shut down. */
  force?: boolean;
  /** reboot: power-cycle instead of a soft reboot. */
  hard?: boolean;
}

/**
 * Starts the lifecycle state machines (shared/workflows/definitions.ts): Step Functions on AWS,
 * the same definitions under aws-local-stepfunctions locally. Services never know which.
 */
export interface Workflows {
  start(workflow: WorkflowName, ref: InstanceRef, options?: WorkflowOptions): Promise<void>;
}

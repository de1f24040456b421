import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * A stage is one independent deployment of Hangar (`dev`, `prod`, `pr-42`, …). Its name goes into
 * stack names, the table name and tags, so it is kept short and lowercase kebab.
 */
export interface StageConfig {
  readonly name: string;
  /**
   * Dev-like stages hold throwaway data: their table is destroyed with the stack and carries no
   * deletion protection. Every other stage keeps its data (RETAIN + deletion protection).
   */
  readonly ephemeral: boolean;
  /** What happens to stateful resources (table, log groups) when their stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  /**
   * An AWS create without `accountId` runs on the deployment's own role (what the provisioner's
   * requests assume), for every client of the stage. Off by default: the operator opts in with
   * `-c allowDeploymentAwsAccount=true`, and the role's EC2 rights are scoped by Hangar's tags.
   */
  readonly allowDeploymentAwsAccount: boolean;
}

export const DEFAULT_STAGE = 'dev';

const STAGE_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_STAGE_LENGTH = 20;

/** Exact names and prefixes of stages whose data may be thrown away. Anything else is protected. */
const EPHEMERAL_NAMES = new Set(['dev', 'test', 'sandbox']);
const EPHEMERAL_PREFIXES = ['dev-', 'test-', 'sandbox-', 'pr-'];

export class InvalidStageError extends Error {
  constructor(value: unknown) {
    super(
      `Invalid stage ${JSON.stringify(value)}: use lowercase letters and digits in kebab-case, starting with a letter, ` +
        `at most ${MAX_STAGE_LENGTH} characters (e.g. -c stage=dev, -c stage=prod, -c stage=pr-42).`,
    );
    this.name = 'InvalidStageError';
  }
}

/** Validates the `stage` context value (undefined means the default stage). */
export function parseStage(value: unknown): string {
  if (value === undefined || value === null || value === '') return DEFAULT_STAGE;
  if (typeof value !== 'string' || value.length > MAX_STAGE_LENGTH || !STAGE_PATTERN.test(value)) {
    throw new InvalidStageError(value);
  }
  return value;
}

export function isEphemeralStage(stage: string): boolean {
  return EPHEMERAL_NAMES.has(stage) || EPHEMERAL_PREFIXES.some((prefix) => stage.startsWith(prefix));
}

export function stageConfig(stage: string, options: { allowDeploymentAwsAccount?: unknown } = {}): StageConfig {
  const ephemeral = isEphemeralStage(stage);
  return {
    name: stage,
    ephemeral,
    removalPolicy: ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    logRetention: ephemeral ? RetentionDays.ONE_WEEK : RetentionDays.THREE_MONTHS,
    // Context values arrive as strings from the command line, as booleans from cdk.json.
    allowDeploymentAwsAccount: options.allowDeploymentAwsAccount === true || options.allowDeploymentAwsAccount === 'true',
  };
}

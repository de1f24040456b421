import { StateMachine } from 'aws-local-stepfunctions';
import { executionName, workflowInput } from '../../shared/adapters/aws/step-functions-workflows.ts';
import type { InstanceRef, WorkflowOptions, Workflows } from '../../shared/ports/workflows.ts';
import { DEFINITIONS, POLL, STEPS_FUNCTION_ARN, taskStateNames, waitStateNames, type WorkflowName } from '../../shared/workflows/definitions.ts';

const LOCAL_STEPS_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:hangar-local-workflow-steps';

// aws-local-stepfunctions uses Promise.withResolvers, which Node 20 lacks.
const promiseStatics = Promise as unknown as { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
promiseStatics.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export type StepInvoker = (input: unknown) => Promise<unknown>;

export interface LocalStepFunctionsOptions {
  /** Calls the steps handler module, as Lambda would. */
  invokeStep: StepInvoker;
  /**
   * Wait states pause for milliseconds instead of their SecondsPath (development speed): the
   * first pause of a loop `firstWaitMs` (default 5), each next one a quarter longer, up to a
   * longest pause that gives a machine as long to answer in all as `waitMs` (default 250) per
   * check would (localWaitPace).
   */
  waitMs?: number;
  firstWaitMs?: number;
  /** Every retry waits this long instead of its IntervalSeconds × BackoffRate. */
  retryIntervalMs?: number;
  onExecutionFailed?: (name: string, error: unknown) => void;
}

/**
 * One execution's Wait overrides, backing off: the n-th pause of a Wait state lasts
 * `firstMs` × 1.25^(n-1), at most `maxMs`. A LOCAL machine answers within tens of milliseconds,
 * so the first checks come close together, and one that takes long is checked at the `maxMs`
 * pace, as before. aws-local-stepfunctions reads a state's override each time the state runs,
 * so each override is a getter that counts its pauses.
 */
/**
 * The local pace of Wait states: the first pause and the longest. Pauses back off from `firstMs`
 * while keeping a machine's time to answer what it was at a flat `waitMs`: over `checks` pauses
 * (POLL.maxAttempts) at least `checks` × `waitMs` in all, the short first pauses made up by
 * longer last ones, so a workload slow to start is not failed sooner than before. When backing
 * off cannot make that up within `checks` pauses, the pace stays flat.
 */
export function localWaitPace(firstMs: number, waitMs: number, checks: number = POLL.maxAttempts): { firstMs: number; maxMs: number } {
  const total = (cap: number) => Array.from({ length: checks }, (_, n) => Math.min(cap, Math.round(firstMs * 1.25 ** n))).reduce((a, b) => a + b, 0);
  const budget = checks * waitMs;
  if (firstMs >= waitMs || total(Number.POSITIVE_INFINITY) < budget) return { firstMs: waitMs, maxMs: waitMs };
  let cap = waitMs;
  while (total(cap) < budget) cap += Math.max(1, Math.ceil(waitMs / 50));
  return { firstMs, maxMs: cap };
}

export function backoffWaits(states: readonly string[], firstMs: number, maxMs: number): Record<string, number> {
  const overrides: Record<string, number> = {};
  for (const state of states) {
    let pauses = 0;
    Object.defineProperty(overrides, state, { enumerable: true, get: () => Math.min(maxMs, Math.round(firstMs * 1.25 ** pauses++)) });
  }
  return overrides;
}

export interface ExecutionRecord {
  name: string;
  workflow: WorkflowName;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  error?: string;
}

/**
 * The Workflows port served by aws-local-stepfunctions: the very definitions CDK deploys, with
 * every Task state mapped to the steps handler and waits shortened by configuration. Execution
 * names are unique as in Step Functions, so a duplicate start is refused here too.
 */
export class LocalStepFunctions implements Workflows {
  private readonly machines = new Map<WorkflowName, StateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly aborts = new Set<() => void>();
  private readonly pace: { firstMs: number; maxMs: number };

  constructor(private readonly options: LocalStepFunctionsOptions) {
    this.pace = localWaitPace(options.firstWaitMs ?? 5, options.waitMs ?? 250);
    for (const [workflow, definition] of Object.entries(DEFINITIONS) as [WorkflowName, (typeof DEFINITIONS)[WorkflowName]][]) {
      // The same substitution CDK makes at deploy time; every Task state is overridden anyway.
      const substituted = JSON.parse(JSON.stringify(definition).replaceAll(STEPS_FUNCTION_ARN, LOCAL_STEPS_ARN));
      this.machines.set(workflow, new StateMachine(substituted, { validationOptions: { checkArn: false } }));
    }
  }

  async start(workflow: WorkflowName, ref: InstanceRef, options?: WorkflowOptions): Promise<void> {
    const name = executionName(workflow, ref);
    if (this.executions.has(name)) return;
    const record: ExecutionRecord = { name, workflow, status: 'RUNNING' };
    this.executions.set(name, record);

    const definition = DEFINITIONS[workflow];
    const invoke = (input: unknown) => this.options.invokeStep(input) as Promise<never>;
    const execution = this.machines.get(workflow)!.run(workflowInput(ref, options) as never, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(taskStateNames(definition).map((state) => [state, invoke])),
        waitTimeOverrides: backoffWaits(waitStateNames(definition), this.pace.firstMs, this.pace.maxMs),
        retryIntervalOverrides: Object.fromEntries(taskStateNames(definition).map((state) => [state, this.options.retryIntervalMs ?? 100])),
      },
      noThrowOnAbort: true,
    });
    this.aborts.add(execution.abort);
    const done = execution.result.then(
      () => {
        record.status = 'SUCCEEDED';
      },
      (error: unknown) => {
        record.status = 'FAILED';
        record.error = (error as Error).message;
        this.options.onExecutionFailed?.(name, error);
      },
    );
    const tracked = done.finally(() => {
      this.running.delete(tracked);
      this.aborts.delete(execution.abort);
    });
    this.running.add(tracked);
  }

  execution(name: string): ExecutionRecord | undefined {
    return this.executions.get(name);
  }

  /** Resolves once every execution started so far has ended. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Stop executions where they are (runtime shutdown); the next start resumes their instances. */
  abortAll(): void {
    for (const abort of this.aborts) abort();
  }
}

/**
 * Shared set-up for the workflow integration suites: the real state-machine definitions run by
 * LocalStepFunctions (aws-local-stepfunctions), every Task state calling the real steps handler
 * (functions/workflow/steps.ts, middy, error renaming) over DynamoDB Local, with a FakeProvider
 * whose calls are counted and whose failures are programmed per method.
 *
 *   const h = await startWorkflowHarness('failure-injection');
 *   const created = await h.create();
 *   await h.drain();
 */
import { runWorkflowStep } from '../../../functions/workflow/steps.ts';
import { lambdaContext } from '../../../infra/local/gateway.ts';
import { LocalStepFunctions } from '../../../infra/local/local-step-functions.ts';
import { executionName } from '../../../shared/adapters/aws/step-functions-workflows.ts';
import { buildAppDependencies, type AppDependencies } from '../../../shared/config/composition.ts';
import { workflowTask } from '../../../shared/lambda/job-handlers.ts';
import { createDb } from '../../../shared/db/db.ts';
import type { InstanceEvent } from '../../../shared/domain/events.ts';
import type { Instance } from '../../../shared/domain/instance.ts';
import type { Principal } from '../../../shared/domain/roles.ts';
import { logger } from '../../../shared/observability/powertools.ts';
import { DEFINITIONS, type WorkflowName } from '../../../shared/workflows/definitions.ts';
import type { StepInput } from '../../../shared/workflows/run-step.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../../support/fakes.ts';

export interface StepCall {
  input: StepInput;
  outcome: 'ok' | 'error';
  /** The error name the state machine saw (after the handler renamed it). */
  errorName?: string;
}

export interface WorkflowHarness {
  table: TestTable;
  provider: FakeProvider;
  workflows: LocalStepFunctions;
  deps: AppDependencies;
  /** The same table and provider, with a Workflows that only records: steps run by hand. */
  manualDeps: AppDependencies;
  operator: Principal;
  /** Every Task invocation, in order. */
  stepCalls: StepCall[];
  /** Runs before each Task invocation reaches the handler (inject the world's changes here). */
  beforeStep: ((input: StepInput) => void | Promise<void>) | undefined;
  /** Calls the steps handler exactly as a Task state does. */
  invokeStep(input: StepInput): Promise<unknown>;
  create(extra?: Record<string, unknown>): Promise<Instance>;
  get(id: string): Promise<Instance>;
  events(id: string): Promise<InstanceEvent[]>;
  stepCount(step: StepInput['step'], instanceId: string): number;
  executionStatus(workflow: WorkflowName, instance: Pick<Instance, 'id' | 'clientId' | 'version'>): string | undefined;
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorkflowHarness(prefix: string): Promise<WorkflowHarness> {
  // The steps handler logs every failed step as a warning: the suites inject hundreds of them.
  logger.setLogLevel('ERROR');
  const table = await createTestTable(prefix);
  const provider = new FakeProvider({ name: 'LOCAL' });
  const db = createDb({ tableName: table.tableName, client: table.client });

  const harness = {
    table,
    provider,
    stepCalls: [] as StepCall[],
    beforeStep: undefined as WorkflowHarness['beforeStep'],
  } as WorkflowHarness;

  harness.invokeStep = async (input: StepInput) => {
    await harness.beforeStep?.(input);
    try {
      const output = await stepsHandler(input, lambdaContext('steps'));
      harness.stepCalls.push({ input, outcome: 'ok' });
      return output;
    } catch (error) {
      harness.stepCalls.push({ input, outcome: 'error', errorName: (error as Error).name });
      throw error;
    }
  };
  const workflows = new LocalStepFunctions({
    invokeStep: (input) => harness.invokeStep(input as StepInput),
    waitMs: 5,
    retryIntervalMs: 5,
  });
  const deps = buildAppDependencies({ db, providers: [provider], workflows: () => workflows });
  // The Lambda's own Task handler, on this test's composition.
  const stepsHandler = workflowTask(() => deps, runWorkflowStep);
  const manualDeps = buildAppDependencies({ db, providers: [provider], workflows: () => new RecordingWorkflows() });

  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: `Workflow tenant ${prefix} ${Date.now()}`, maxInstances: 5_000 });
  const operator = principalFor(client.clientId, 'operator');

  Object.assign(harness, {
    workflows,
    deps,
    manualDeps,
    operator,
    create: (extra: Record<string, unknown> = {}) =>
      deps.services.instances.create(operator, { name: 'Worker', type: 'vps', config: { provider: 'LOCAL', instanceType: 'local.small' }, ...extra }),
    get: (id: string) => deps.services.instances.get(operator, id),
    events: async (id: string) => {
      const out: InstanceEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await deps.services.instances.events(operator, id, { limit: 100, ...(cursor ? { cursor } : {}) });
        out.push(...page.items);
        cursor = page.cursor ?? undefined;
      } while (cursor);
      return out;
    },
    stepCount: (step: StepInput['step'], instanceId: string) =>
      harness.stepCalls.filter((c) => c.input.step === step && c.input.instanceId === instanceId).length,
    executionStatus: (workflow: WorkflowName, instance: Pick<Instance, 'id' | 'clientId' | 'version'>) =>
      workflows.execution(executionName(workflow, { clientId: instance.clientId, instanceId: instance.id, version: instance.version }))?.status,
    drain: () => workflows.drain(),
    stop: async () => {
      await workflows.drain();
      await deleteTestTable(table);
    },
  });
  return harness;
}

/** 1 + MaxAttempts of the first retrier of `state` in `workflow` that matches `errorName` (as Step Functions picks it). */
export function attemptsFor(workflow: WorkflowName, state: string, errorName: string): number {
  const definition = DEFINITIONS[workflow].States[state] as { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] } | undefined;
  if (!definition) throw new Error(`${workflow} has no state ${state}`);
  const retrier = (definition.Retry ?? []).find((r) => r.ErrorEquals.includes(errorName) || r.ErrorEquals.includes('States.ALL'));
  // Step Functions' default MaxAttempts is 3.
  return 1 + (retrier ? (retrier.MaxAttempts ?? 3) : 0);
}

/** A label per event, to compare an instance's history with the expected story. */
export function storyOf(events: InstanceEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'instance.created') return 'created';
    if (e.type === 'instance.status-changed') return e.toStatus!;
    return e.type.replace(/^provisioning\./, '');
  });
}

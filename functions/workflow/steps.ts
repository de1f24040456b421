import { schedulerOnFirstUse } from '../../shared/config/on-first-use/scheduler.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { deployedMachinePieces } from '../../shared/config/shared-providers.ts';
import { workflowTask } from '../../shared/lambda/job-handlers.ts';
import { runStep, type StepInput } from '../../shared/workflows/run-step.ts';

/** What every Task state runs, given the composition it runs in (Lambda's, or the local runtime's). */
export const runWorkflowStep = (deps: Pick<AppDependencies, 'services'>, input: StepInput) => runStep(deps.services.provisioning, input);

/**
 * Every Task state of every lifecycle state machine calls this one function with `{ step, … }`.
 * It starts no workflow itself, so it carries no Step Functions client.
 */
export const handler = workflowTask(
  () =>
    composeHangar({
      ...deployedMachinePieces(),
      scheduler: schedulerOnFirstUse(),
    }),
  runWorkflowStep,
);

import type { ServiceDeps } from './deps.ts';
import { makeFailStep } from './provisioning/fail-step.ts';
import { makePowerSteps } from './provisioning/power-steps.ts';
import { makeProvisionSteps } from './provisioning/provision-steps.ts';
import { makeStepContext } from './provisioning/step-context.ts';
import { makeTerminateSteps } from './provisioning/terminate-steps.ts';

export { addressesOf, describeFailure, machineRefOf, type StepResult } from './provisioning/step-context.ts';

/**
 * Every Task of every lifecycle state machine, by workflow (shared/services/provisioning/): each
 * step is idempotent — it may run twice and must leave one machine and one record of each change.
 * shared/workflows/run-step.ts maps a Task's `step` to one of these.
 */
export function makeProvisioningSteps(deps: ServiceDeps) {
  const context = makeStepContext(deps);
  return {
    ...makeProvisionSteps(context),
    fail: makeFailStep(context),
    ...makeTerminateSteps(context),
    ...makePowerSteps(context),
    describe: context.describe,
  };
}

export type ProvisioningSteps = ReturnType<typeof makeProvisioningSteps>;

import type { Instance } from '../../domain/instance.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import { mutateInstance, transition } from '../instance-changes.ts';
import { ACTOR, machineRefOf, type StepContext, type StepResult } from './step-context.ts';

/** The terminate workflow: release the machine, then TERMINATED once the provider confirms it is gone. */
export function makeTerminateSteps({ deps, providerOf, load, describe, releaseUnrecorded }: StepContext) {
  /** Ask the provider to release the machine (TERMINATING). */
  async function release(ref: InstanceRef): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'TERMINATING') return instance;
    if (instance.providerInstanceId) await (await providerOf(instance)).terminate(machineRefOf(instance));
    else await releaseUnrecorded(instance);
    return instance;
  }

  /** TERMINATING → TERMINATED only once the provider confirms the machine is gone. */
  async function confirmTerminated(ref: InstanceRef): Promise<StepResult> {
    const instance = await load(ref);
    if (instance.status !== 'TERMINATING') return { instance, done: true };
    if (instance.providerInstanceId) {
      const machine = await describe(instance);
      if (machine && machine.state !== 'terminated') return { instance, done: false };
    }
    const next = await mutateInstance(deps, ref, (current, now) => {
      if (current.status !== 'TERMINATING') return null;
      const change = transition(current, 'terminated', now, ACTOR, 'Terminated; the provider confirmed the machine is gone');
      change.event.data = { finalCostMicros: change.after.accruedCostMicros, terminatedBy: current.terminatedBy };
      return change;
    });
    await deps.deadlines.sync(next, instance);
    return { instance: next, done: true };
  }

  return { release, confirmTerminated };
}

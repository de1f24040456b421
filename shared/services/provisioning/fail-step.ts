import { canApply } from '../../domain/lifecycle.ts';
import type { Instance } from '../../domain/instance.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import { mutateInstance, transition } from '../instance-changes.ts';
import { ACTOR, describeFailure, machineRefOf, type StepContext } from './step-context.ts';

/** Every workflow's Catch: the failure as ERROR, and compensation where the workflow calls for it. */
export function makeFailStep({ deps, providerOf, findUnrecorded }: StepContext) {
  /**
   * Record a failure as ERROR. A failed provisioning or termination also releases whatever the
   * provider holds, so nothing is left running and billing; a failed stop, start or reboot
   * keeps the machine and its disk for the person to retry or terminate.
   */
  async function fail(
    ref: InstanceRef,
    error: unknown,
    options: { failTermination?: boolean; keepMachine?: boolean } = {},
  ): Promise<Instance> {
    const message = describeFailure(error);
    // A provisioning failure must not undo a termination already under way; a failed
    // termination, though, is an ERROR the person can see and terminate again.
    const failed = await mutateInstance(deps, ref, (current, now) =>
      canApply(current.status, 'fail') && (current.status !== 'TERMINATING' || options.failTermination)
        ? transition(current, 'fail', now, ACTOR, message, { errorMessage: message })
        : null,
    );
    if (options.keepMachine) return failed;
    const gone = failed.status === 'ERROR' || failed.status === 'TERMINATING' || failed.status === 'TERMINATED';
    // The launch may have succeeded without its id being recorded: find it by ownership then.
    const providerInstanceId = failed.providerInstanceId ?? (gone ? await findUnrecorded(failed) : undefined);
    if (providerInstanceId && gone) {
      try {
        await (await providerOf(failed)).terminate(machineRefOf({ ...failed, providerInstanceId }));
        await deps.instances.appendEvent(failed, {
          type: 'provisioning.compensated',
          actor: ACTOR,
          message: `Released ${providerInstanceId} at ${failed.provider} so nothing is left running`,
        });
      } catch (cleanupError) {
        await deps.instances.appendEvent(failed, {
          type: 'provisioning.compensation-failed',
          actor: ACTOR,
          message: `Could not release ${providerInstanceId}: ${describeFailure(cleanupError)}`,
        });
        throw cleanupError;
      }
    }
    return failed;
  }

  return fail;
}

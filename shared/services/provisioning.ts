import { DomainError, ProviderError } from '../domain/errors.ts';
import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { canApply } from '../domain/lifecycle.ts';
import type { Machine, MachineRef } from '../ports/compute-provider.ts';
import type { InstanceRef } from '../ports/workflows.ts';
import { deadlinePolicyOf, type ServiceDeps } from './deps.ts';
import { mutateInstance, transition } from './instance-changes.ts';
import { launchSpecOf } from '../domain/instance.ts';
import { deadlineOnReady } from '../domain/deadlines.ts';
import { makeBudgetSweep } from './business/budget-sweep.ts';

const ACTOR = SYSTEM_ACTOR('provisioning');

export type StepResult = { instance: Instance; done: boolean };

/**
 * Provisioning and termination as separate, idempotent steps. A workflow engine sequences them
 * (the local runner now, Step Functions next); each step may run twice and must leave one machine
 * and one record of each change.
 */
export function makeProvisioningSteps(deps: ServiceDeps) {
  const budgets = makeBudgetSweep(deps);
  /**
   * Costs start moving: check the client's budget thresholds now (one read for a client without
   * a budget). A failed check never fails the step; the periodic sweep checks again.
   */
  async function checkBudget(instance: Instance): Promise<void> {
    await budgets.checkClient(instance.clientId, instance).catch(() => undefined);
  }
  const providerOf = (instance: Instance) => deps.providers.forInstance(instance);

  async function load(ref: InstanceRef): Promise<Instance> {
    const instance = await deps.instances.get(ref.clientId, ref.instanceId);
    if (!instance) throw new ProviderError(`Instance ${ref.instanceId} no longer exists`);
    return instance;
  }

  /** PENDING → PROVISIONING. */
  async function reserve(ref: InstanceRef): Promise<Instance> {
    return mutateInstance(deps, ref, (current, now) =>
      current.status === 'PENDING' ? transition(current, 'reserve', now, ACTOR, 'Capacity reserved; provisioning') : null,
    );
  }

  /** Ask the provider for the machine. The instance id is the idempotency token. */
  async function launch(ref: InstanceRef): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'PROVISIONING') {
      // Terminated while an earlier attempt was launching: that attempt may have created a
      // machine whose answer was lost; it must not outlive the record.
      if (!instance.providerInstanceId && (instance.status === 'TERMINATING' || instance.status === 'TERMINATED')) {
        await releaseUnrecorded(instance);
      }
      return instance;
    }
    const machine = await (await providerOf(instance)).launch(launchSpecOf(instance));
    const recorded = await mutateInstance(deps, ref, (current, now) => {
      if (current.providerInstanceId === machine.providerInstanceId) return null;
      const after = { ...current, ...addressesOf(machine), updatedAt: now.toISOString(), version: current.version + 1 };
      return {
        after,
        event: {
          type: 'provisioning.launched',
          actor: ACTOR,
          message: `Launched at ${current.provider} as ${machine.providerInstanceId}`,
          data: { providerInstanceId: machine.providerInstanceId },
        },
      };
    });
    // Terminated while we were launching: the machine must not outlive its record.
    if (recorded.status === 'TERMINATING' || recorded.status === 'TERMINATED') {
      await (await providerOf(recorded)).terminate(machineRefOf({ ...recorded, providerInstanceId: machine.providerInstanceId }));
    }
    return recorded;
  }

  /** Has the machine come up? PROVISIONING → CONFIGURING once the provider says running. */
  async function poll(ref: InstanceRef): Promise<StepResult> {
    const instance = await load(ref);
    if (instance.status !== 'PROVISIONING') return { instance, done: true };
    const machine = await describe(instance);
    // Not found yet is normal right after a launch (EC2 is eventually consistent): the poll
    // loop's guard bounds the wait. A machine the provider calls terminated is gone for good.
    if (!machine) return { instance, done: false };
    if (machine.state === 'terminated') throw new ProviderError('The machine was terminated while it was being provisioned');
    if (machine.state === 'error') throw new ProviderError(machine.reason ?? 'The provider reported an error while provisioning');
    if (machine.state !== 'running') return { instance, done: false };
    const next = await mutateInstance(deps, ref, (current, now) =>
      current.status === 'PROVISIONING'
        ? transition(current, 'launched', now, ACTOR, `Machine is up${machine.port ? ` on port ${machine.port}` : ''}`, addressesOf(machine))
        : null,
    );
    return { instance: next, done: true };
  }

  /** Networks, addresses and a first health probe. */
  async function configure(ref: InstanceRef): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'CONFIGURING') return instance;
    const machine = await describe(instance);
    if (!machine || machine.state !== 'running') {
      throw new ProviderError(machine?.reason ?? 'The machine stopped answering while it was being configured');
    }
    return mutateInstance(deps, ref, (current, now) => {
      if (current.status !== 'CONFIGURING' || current.health?.status === 'HEALTHY') return null;
      const after = {
        ...current,
        ...addressesOf(machine),
        health: { status: 'HEALTHY' as const, checkedAt: now.toISOString() },
        updatedAt: now.toISOString(),
        version: current.version + 1,
      };
      return { after, event: { type: 'provisioning.configured', actor: ACTOR, message: 'First health probe passed' } };
    });
  }

  /** CONFIGURING → READY: billing starts, the auto-terminate deadline is fixed. */
  async function activate(ref: InstanceRef): Promise<Instance> {
    let configuring: Instance | undefined;
    const ready = await mutateInstance(deps, ref, (current, now) => {
      if (current.status !== 'CONFIGURING') return null;
      configuring = current;
      const deadline = deadlineOnReady(current, now, deadlinePolicyOf(deps));
      return transition(current, 'activate', now, ACTOR, deadline ? `Ready; auto-terminates at ${deadline}` : 'Ready', {
        ...(deadline ? { autoTerminateAt: deadline } : {}),
      });
    });
    await deps.deadlines.sync(ready, configuring ?? ready);
    if (configuring) await checkBudget(ready);
    return ready;
  }

  /** A machine launched for `instance` whose id never reached the record: found by ownership. */
  async function findUnrecorded(instance: Instance): Promise<string | undefined> {
    return (await (await providerOf(instance)).listOwned()).find((m) => m.instanceId === instance.id)?.providerInstanceId;
  }

  async function releaseUnrecorded(instance: Instance): Promise<void> {
    const providerInstanceId = await findUnrecorded(instance);
    if (!providerInstanceId) return;
    await (await providerOf(instance)).terminate(machineRefOf({ ...instance, providerInstanceId }));
    await deps.instances.appendEvent(instance, {
      type: 'provisioning.compensated',
      actor: ACTOR,
      message: `Released ${providerInstanceId}, launched by an attempt whose answer was lost`,
    });
  }

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

  /** Stop the machine (STOPPING); force cuts it off at once. */
  async function stopMachine(ref: InstanceRef, options: { force?: boolean } = {}): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'STOPPING') return instance;
    await (await providerOf(instance)).stop(machineRefOf(instance), options);
    return instance;
  }

  /** STOPPING → STOPPED once the provider says stopped. */
  async function confirmStopped(ref: InstanceRef, stopReason?: Instance['stopReason']): Promise<StepResult> {
    const instance = await load(ref);
    if (instance.status !== 'STOPPING') return { instance, done: true };
    const machine = await describe(instance);
    if (machine && machine.state !== 'stopped' && machine.state !== 'error') return { instance, done: false };
    const next = await mutateInstance(deps, ref, (current, now) =>
      current.status === 'STOPPING'
        ? transition(current, 'stopped', now, ACTOR, 'Stopped', stopReason ? { stopReason } : {})
        : null,
    );
    return { instance: next, done: true };
  }

  /** Start the machine again (STARTING). */
  async function startMachine(ref: InstanceRef): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'STARTING') return instance;
    await (await providerOf(instance)).start(machineRefOf(instance));
    return instance;
  }

  /**
   * STARTING or REBOOTING → READY once the provider reports the machine running; its addresses
   * may have changed on the way.
   */
  async function confirmUp(
    ref: InstanceRef,
    from: 'STARTING' | 'REBOOTING',
    failure: string,
    message: (machine: Machine) => string,
  ): Promise<StepResult> {
    const instance = await load(ref);
    if (instance.status !== from) return { instance, done: true };
    const machine = await describe(instance);
    if (machine?.state === 'error') throw new ProviderError(machine.reason ?? failure);
    if (!machine || machine.state !== 'running') return { instance, done: false };
    const next = await mutateInstance(deps, ref, (current, now) =>
      current.status === from
        ? transition(current, from === 'STARTING' ? 'started' : 'rebooted', now, ACTOR, message(machine), {
            ...addressesOf(machine),
            health: { status: 'HEALTHY', checkedAt: now.toISOString() },
          })
        : null,
    );
    if (next.status === 'READY' && from === 'STARTING') await checkBudget(next);
    return { instance: next, done: true };
  }

  const confirmStarted = (ref: InstanceRef) =>
    confirmUp(ref, 'STARTING', 'The machine failed to start', (m) => `Started${m.port ? ` on port ${m.port}` : ''}`);

  /** Reboot the machine (REBOOTING); hard cuts the power instead of asking the OS. */
  async function rebootMachine(ref: InstanceRef, options: { hard?: boolean } = {}): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'REBOOTING') return instance;
    await (await providerOf(instance)).reboot(machineRefOf(instance), options);
    return instance;
  }

  const confirmRebooted = (ref: InstanceRef) =>
    confirmUp(ref, 'REBOOTING', 'The machine failed to come back after the reboot', () => 'Back up after the reboot');

  async function describe(instance: Instance): Promise<Machine | null> {
    if (!instance.providerInstanceId) return null;
    return (await providerOf(instance)).describe(machineRefOf(instance));
  }

  return {
    reserve,
    launch,
    poll,
    configure,
    activate,
    fail,
    release,
    confirmTerminated,
    stopMachine,
    confirmStopped,
    startMachine,
    confirmStarted,
    rebootMachine,
    confirmRebooted,
    describe,
  };
}

export type ProvisioningSteps = ReturnType<typeof makeProvisioningSteps>;

export function machineRefOf(instance: Instance): MachineRef {
  return {
    instanceId: instance.id,
    providerInstanceId: instance.providerInstanceId ?? '',
    region: instance.region,
    ...(instance.config.accountId ? { accountId: instance.config.accountId } : {}),
  };
}

export function addressesOf(machine: Machine): Partial<Instance> {
  return Object.fromEntries(
    Object.entries({
      providerInstanceId: machine.providerInstanceId,
      privateIp: machine.privateIp,
      publicIp: machine.publicIp,
      port: machine.port,
      providerDetails: machine.details,
    }).filter(([, v]) => v !== undefined),
  );
}

/** A message a person can act on: domain errors carry one; anything else is summarised. */
export function describeFailure(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  if (error instanceof Error) return `Unexpected failure: ${error.message.split('\n')[0]}`;
  return 'Unexpected failure';
}

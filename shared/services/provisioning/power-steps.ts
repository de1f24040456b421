import { ProviderError } from '../../domain/errors.ts';
import type { Instance } from '../../domain/instance.ts';
import type { Machine } from '../../ports/compute-provider.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import { mutateInstance, transition } from '../instance-changes.ts';
import { ACTOR, addressesOf, machineRefOf, type StepContext, type StepResult } from './step-context.ts';

/** The stop, start and reboot workflows: ask the provider, then confirm what it reports. */
export function makePowerSteps({ deps, providerOf, load, describe, checkBudget }: StepContext) {
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

  return { stopMachine, confirmStopped, startMachine, confirmStarted, rebootMachine, confirmRebooted };
}

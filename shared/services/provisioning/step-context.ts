import { DomainError, ProviderError } from '../../domain/errors.ts';
import { SYSTEM_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import type { Machine, MachineRef } from '../../ports/compute-provider.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import { makeBudgetSweep } from '../business/budget-sweep.ts';
import type { ServiceDeps } from '../deps.ts';

/** The actor every workflow step writes its events as. */
export const ACTOR = SYSTEM_ACTOR('provisioning');

/** A step that waits on the provider: `done` false means poll again later. */
export type StepResult = { instance: Instance; done: boolean };

/**
 * What every workflow step shares: the instance as recorded, the provider it lives on, the
 * machine as the provider sees it, and the compensation for a machine whose id was never recorded.
 */
export function makeStepContext(deps: ServiceDeps) {
  const budgets = makeBudgetSweep(deps);
  const providerOf = (instance: Instance) => deps.providers.forInstance(instance);

  async function load(ref: InstanceRef): Promise<Instance> {
    const instance = await deps.instances.get(ref.clientId, ref.instanceId);
    if (!instance) throw new ProviderError(`Instance ${ref.instanceId} no longer exists`);
    return instance;
  }

  async function describe(instance: Instance): Promise<Machine | null> {
    if (!instance.providerInstanceId) return null;
    return (await providerOf(instance)).describe(machineRefOf(instance));
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
   * Costs start moving: check the client's budget thresholds now (one read for a client without
   * a budget). A failed check never fails the step; the periodic sweep checks again.
   */
  async function checkBudget(instance: Instance): Promise<void> {
    await budgets.checkClient(instance.clientId, instance).catch(() => undefined);
  }

  return { deps, providerOf, load, describe, findUnrecorded, releaseUnrecorded, checkBudget };
}

export type StepContext = ReturnType<typeof makeStepContext>;

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

import { ProviderError } from '../../domain/errors.ts';
import { deadlineOnReady } from '../../domain/deadlines.ts';
import { launchSpecOf, type Instance } from '../../domain/instance.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import { deadlinePolicyOf } from '../deps.ts';
import type { Machine } from '../../ports/compute-provider.ts';
import { mutateInstance, transition, type EventInput } from '../instance-changes.ts';
import { ACTOR, addressesOf, machineRefOf, type StepContext, type StepResult } from './step-context.ts';

/**
 * The provision workflow, one idempotent step per write: PENDING → PROVISIONING (reserve), the
 * machine and its id (launch), then CONFIGURING → READY in the write of the poll that finds it up.
 */
export function makeProvisionSteps({ deps, providerOf, load, describe, releaseUnrecorded, checkBudget }: StepContext) {
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
    }, { read: instance });
    // Terminated while we were launching: the machine must not outlive its record.
    if (recorded.status === 'TERMINATING' || recorded.status === 'TERMINATED') {
      await (await providerOf(recorded)).terminate(machineRefOf({ ...recorded, providerInstanceId: machine.providerInstanceId }));
    }
    return recorded;
  }

  /**
   * Has the machine come up? Once the provider says running (for LOCAL: its health check
   * answered, the first health probe), the machine is recorded up (→ CONFIGURING), configured
   * (addresses, health) and READY in one write, each change with its own event: nothing happens
   * between them worth a write of its own. An instance left CONFIGURING is finished the same way.
   */
  async function poll(ref: InstanceRef): Promise<StepResult> {
    const instance = await load(ref);
    if (instance.status !== 'PROVISIONING' && instance.status !== 'CONFIGURING') {
      // Past provisioning: brought up already (this step again, after its answer was lost) or
      // terminated meanwhile. Either way the deadline's schedules follow the record.
      await deps.deadlines.sync(instance, instance);
      return { instance, done: true };
    }
    const machine = await describe(instance);
    // Not found yet is normal right after a launch (EC2 is eventually consistent): the poll
    // loop's guard bounds the wait. A machine the provider calls terminated is gone for good.
    if (!machine) return { instance, done: false };
    if (machine.state === 'terminated') throw new ProviderError('The machine was terminated while it was being provisioned');
    if (machine.state === 'error') throw new ProviderError(machine.reason ?? 'The provider reported an error while provisioning');
    if (machine.state !== 'running') return { instance, done: false };
    return { instance: await bringUp(instance, machine), done: true };
  }

  /** PROVISIONING or CONFIGURING → READY in one write: billing starts, the auto-terminate deadline is fixed. */
  async function bringUp(instance: Instance, machine: Machine): Promise<Instance> {
    const ref = { clientId: instance.clientId, instanceId: instance.id };
    let before: Instance | undefined;
    const ready = await mutateInstance(deps, ref, (current, now) => {
      if (current.status !== 'PROVISIONING' && current.status !== 'CONFIGURING') return null;
      before = current;
      const events: EventInput[] = [];
      let configuring = current;
      if (current.status === 'PROVISIONING') {
        const up = transition(current, 'launched', now, ACTOR, `Machine is up${machine.port ? ` on port ${machine.port}` : ''}`, addressesOf(machine));
        configuring = up.after;
        events.push(up.event);
      }
      const probed = configured(configuring, machine, now);
      if (probed) {
        configuring = probed.after;
        events.push(probed.event);
      }
      const ready = activated(configuring, now);
      events.push(ready.event);
      // One write, one version, however many changes it records.
      return { after: { ...ready.after, version: current.version + 1 }, events };
    }, { read: instance });
    if (before) await onReady(ready, before);
    return ready;
  }

  /** The addresses and the first health probe recorded on a CONFIGURING instance; null once they are. */
  function configured(current: Instance, machine: Machine, now: Date): { after: Instance; event: EventInput } | null {
    if (current.health?.status === 'HEALTHY') return null;
    const after = {
      ...current,
      ...addressesOf(machine),
      health: { status: 'HEALTHY' as const, checkedAt: now.toISOString() },
      updatedAt: now.toISOString(),
      version: current.version + 1,
    };
    return { after, event: { type: 'provisioning.configured', actor: ACTOR, message: 'First health probe passed' } };
  }

  /** CONFIGURING → READY: billing starts, the auto-terminate deadline is fixed. */
  function activated(configuring: Instance, now: Date) {
    const deadline = deadlineOnReady(configuring, now, deadlinePolicyOf(deps));
    return transition(configuring, 'activate', now, ACTOR, deadline ? `Ready; auto-terminates at ${deadline}` : 'Ready', {
      ...(deadline ? { autoTerminateAt: deadline } : {}),
    });
  }

  /** Once READY: the deadline's schedules follow the record, and the budget is checked. */
  async function onReady(ready: Instance, before: Instance): Promise<void> {
    await deps.deadlines.sync(ready, before);
    await checkBudget(ready);
  }

  /**
   * Networks, addresses and a first health probe. Not a state of the provision definition any
   * more (poll records it); executions started under the earlier definition still call it.
   */
  async function configure(ref: InstanceRef): Promise<Instance> {
    const instance = await load(ref);
    if (instance.status !== 'CONFIGURING') return instance;
    const machine = await describe(instance);
    if (!machine || machine.state !== 'running') {
      throw new ProviderError(machine?.reason ?? 'The machine stopped answering while it was being configured');
    }
    return mutateInstance(deps, ref, (current, now) => (current.status === 'CONFIGURING' ? configured(current, machine, now) : null));
  }

  /** CONFIGURING → READY, for executions started under the earlier definition (see configure). */
  async function activate(ref: InstanceRef): Promise<Instance> {
    let configuring: Instance | undefined;
    const ready = await mutateInstance(deps, ref, (current, now) => {
      if (current.status !== 'CONFIGURING') return null;
      configuring = current;
      return activated(current, now);
    });
    if (configuring) await onReady(ready, configuring);
    else await deps.deadlines.sync(ready, ready);
    return ready;
  }

  return { reserve, launch, poll, configure, activate };
}

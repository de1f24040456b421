import type { ProviderName } from '../domain/catalog.ts';
import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { Instance } from '../domain/instance.ts';
import { canApply, type InstanceStatus } from '../domain/lifecycle.ts';
import type { InstanceRef } from '../ports/workflows.ts';
import type { ServiceDeps } from './deps.ts';
import { mutateInstance, transition } from './instance-changes.ts';
import type { ProvisioningSteps } from './provisioning.ts';
import type { WorkflowName } from '../workflows/definitions.ts';

const ACTOR = SYSTEM_ACTOR('machine-watch');
/** A machine dying on its own matters in these statuses; in the others Hangar asked for it. */
const EXPECTED_UP: readonly InstanceStatus[] = ['CONFIGURING', 'READY', 'RUNNING', 'STARTING', 'REBOOTING'];

/** The workflow that carries each transitional status on; every step is safe to run again. */
const RESUMED_BY: readonly (readonly [InstanceStatus, WorkflowName])[] = [
  ['PENDING', 'provision'],
  ['PROVISIONING', 'provision'],
  ['CONFIGURING', 'provision'],
  ['TERMINATING', 'terminate'],
  ['STOPPING', 'stop'],
  ['STARTING', 'start'],
  ['REBOOTING', 'reboot'],
];

const refOf = (i: Instance): InstanceRef => ({ clientId: i.clientId, instanceId: i.id, version: i.version });

/**
 * Keeps records honest about machines: a machine that dies on its own is never left claiming
 * READY, a runtime shutdown stops and records its machines, and a runtime start reconciles
 * what the table says with what is actually running.
 */
export function makeMachineWatch(deps: ServiceDeps, steps: ProvisioningSteps) {
  async function recordUnexpectedExit(instanceId: string, reason: string): Promise<Instance | null> {
    const instance = await deps.instances.findById(instanceId);
    if (!instance || !EXPECTED_UP.includes(instance.status)) return instance;
    return mutateInstance(deps, refOf(instance), (current, now) =>
      EXPECTED_UP.includes(current.status)
        ? transition(current, 'fail', now, ACTOR, `The machine stopped on its own: ${reason}`, {
            errorMessage: `The machine stopped on its own: ${reason}`,
            health: { status: 'ERROR', checkedAt: now.toISOString(), error: reason },
          })
        : null,
    );
  }

  /** Stop every up machine of `provider` and record why, so the next start can bring them back. */
  async function stopAllForShutdown(provider: ProviderName): Promise<Instance[]> {
    const stopped: Instance[] = [];
    for (const status of ['READY', 'RUNNING'] as const) {
      for (const instance of await deps.instances.listByStatus(status, provider)) {
        const ref = refOf(instance);
        await mutateInstance(deps, ref, (current, now) =>
          canApply(current.status, 'stop')
            ? transition(current, 'stop', now, ACTOR, 'Stopping because the Hangar runtime is shutting down')
            : null,
        );
        await steps.stopMachine(ref);
        const result = await steps.confirmStopped(ref, 'runtime-shutdown');
        stopped.push(result.instance);
      }
    }
    return stopped;
  }

  /**
   * At runtime start: resume what was in flight on any provider (a cloud stop cut short by the
   * shutdown would otherwise stay STOPPING), and for `provider`, whose machines are this
   * runtime's own processes, bring back what the shutdown stopped and mark as failed what
   * claims to be up but is not.
   */
  async function reconcileOnStart(provider: ProviderName): Promise<{ resumed: number; restarted: number; failed: number }> {
    const tally = { resumed: 0, restarted: 0, failed: 0 };
    const list = (status: InstanceStatus) => deps.instances.listByStatus(status, provider);

    for (const [status, workflow] of RESUMED_BY) {
      for (const instance of await deps.instances.listByStatus(status)) {
        await deps.workflows.start(workflow, refOf(instance));
        tally.resumed++;
      }
    }
    for (const instance of await list('STOPPED')) {
      if (instance.stopReason !== 'runtime-shutdown') continue;
      const starting = await mutateInstance(deps, refOf(instance), (current, now) =>
        current.status === 'STOPPED' ? transition(current, 'start', now, ACTOR, 'Starting again: the Hangar runtime is back') : null,
      );
      await deps.workflows.start('start', refOf(starting));
      tally.restarted++;
    }
    for (const status of ['READY', 'RUNNING'] as const) {
      for (const instance of await list(status)) {
        const machine = await steps.describe(instance);
        if (machine?.state === 'running') continue;
        const reason = machine?.reason ?? 'its process is no longer running';
        await mutateInstance(deps, refOf(instance), (current, now) =>
          current.status === status
            ? transition(current, 'fail', now, ACTOR, `Found not running when the runtime started: ${reason}`, {
                errorMessage: `Found not running when the runtime started: ${reason}`,
              })
            : null,
        );
        tally.failed++;
      }
    }
    return tally;
  }

  return { recordUnexpectedExit, stopAllForShutdown, reconcileOnStart };
}

import { businessAction } from '../../domain/business-actions.ts';
import { UnmanagedMachineError } from '../../domain/errors.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { rebootSchema, startTaskSchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { type EventInput, transition } from '../instance-changes.ts';
import { loadInstance, workflowRefOf } from './get-instance.ts';

/** The actions of POST /api/instances/{id}/{start,stop,kill,reboot,restart} and the task routes. */
export type MachineAction = 'start' | 'stop' | 'kill' | 'reboot' | 'startTask' | 'finishTask';

/** Actions that need a machine Hangar manages: EXTERNAL endpoints are only watched. */
const MANAGED_ONLY: readonly MachineAction[] = ['start', 'stop', 'kill', 'reboot'];

/**
 * startInstance, stopInstance, killInstance, rebootInstance/restartInstance, startTask,
 * finishTask: the transition is checked against the table and written with its event (a
 * forbidden one is a 422 naming the status, a lost race a 409), then the workflow that carries
 * it out is started. Task actions are bookkeeping only: no workflow.
 */
export function makeLifecycleAction(deps: Pick<ServiceDeps, 'instances' | 'clock' | 'workflows'>) {
  return async function lifecycleAction(principal: Principal, id: string, action: MachineAction, body: unknown): Promise<Instance> {
    requireRole(principal, 'operator', `${action} instances`);
    const before = await loadInstance(deps, principal, id);
    if (before.provider === 'EXTERNAL' && MANAGED_ONLY.includes(action)) {
      throw new UnmanagedMachineError(`EXTERNAL endpoints are not managed by Hangar: cannot ${action} ${before.config.endpoint ?? before.id}`);
    }
    const actor = KEY_ACTOR(principal.keyId);
    const now = deps.clock.now();
    const save = async (change: { after: Instance; event: EventInput }) => {
      await deps.instances.save(before, change.after, [change.event], businessAction(principal, before.clientId, `instance.${action}`, `instance:${id}`, {}, change.after.updatedAt));
      return change.after;
    };
    switch (action) {
      case 'stop':
      case 'kill': {
        const after = await save(transition(before, action, now, actor, action === 'kill' ? `Force stop requested by ${actor}` : `Stop requested by ${actor}`));
        await deps.workflows.start('stop', workflowRefOf(after), { force: action === 'kill' });
        return after;
      }
      case 'start': {
        const after = await save(transition(before, 'start', now, actor, `Start requested by ${actor}`));
        await deps.workflows.start('start', workflowRefOf(after));
        return after;
      }
      case 'reboot': {
        const { hard } = await parseInput(rebootSchema, body ?? {}, 'reboot');
        const after = await save(transition(before, 'reboot', now, actor, `${hard ? 'Hard reboot' : 'Reboot'} requested by ${actor}`));
        await deps.workflows.start('reboot', workflowRefOf(after), { hard });
        return after;
      }
      case 'startTask': {
        const { taskId } = await parseInput(startTaskSchema, body, 'task');
        return save(transition(before, 'startTask', now, actor, `Task ${taskId} started`, { taskId }));
      }
      case 'finishTask':
        return save(transition(before, 'finishTask', now, actor, `Task ${before.taskId ?? ''} finished`.replace('  ', ' ')));
    }
  };
}

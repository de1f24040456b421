import { businessAction } from '../../domain/business-actions.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import type { ServiceDeps } from '../deps.ts';
import { transition } from '../instance-changes.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from '../preconditions.ts';
import { loadInstance, workflowRefOf } from './get-instance.ts';

/**
 * DELETE /api/instances/{id} (terminateInstance): move to TERMINATING, cancel the deadline, and
 * hand over to the termination workflow; 202 until the provider confirms the machine gone. An
 * instance already TERMINATED is answered as it is, changing nothing: a DELETE repeated after
 * the end (a retry, a second operator) reaches the state it asked for.
 */
export function makeTerminateInstance(deps: Pick<ServiceDeps, 'instances' | 'clock' | 'deadlines' | 'workflows'>) {
  return async function terminateInstance(principal: Principal, id: string, conditions?: WriteConditions): Promise<Instance> {
    requireRole(principal, 'operator', 'terminate instances');
    const before = await loadInstance(deps, principal, id);
    if (before.status === 'TERMINATED') return before;
    requireVersion('Instance', id, before.version, conditions);
    const actor = KEY_ACTOR(principal.keyId);
    const { after, event } = transition(before, 'terminate', deps.clock.now(), actor, `Termination requested by ${actor}`, { terminatedBy: actor });
    await writeWithRetry('Instance', id, conditions, () => deps.instances.save(before, after, [event], businessAction(principal, after.clientId, 'instance.terminate', `instance:${id}`, {}, after.updatedAt)), 1);
    await deps.deadlines.sync(after, before);
    await deps.workflows.start('terminate', workflowRefOf(after));
    return after;
  };
}

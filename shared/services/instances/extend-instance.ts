import { businessAction } from '../../domain/business-actions.ts';
import { extendDeadline, maxAutoTerminateMinutes } from '../../domain/deadlines.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { extendSchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { transition } from '../instance-changes.ts';
import { deadlinePolicyOf } from '../deps.ts';
import { loadInstance } from './get-instance.ts';

/**
 * POST /api/instances/{id}/extend (extendInstance): move the auto-terminate deadline later, as
 * far as the client allows (domain `extendDeadline`), and move its schedules with it.
 */
export function makeExtendInstance(deps: Pick<ServiceDeps, 'instances' | 'clients' | 'clock' | 'deadlines' | 'deadlineMinuteMs'>) {
  return async function extendInstance(principal: Principal, id: string, body: unknown): Promise<Instance> {
    requireRole(principal, 'operator', 'extend instances');
    const before = await loadInstance(deps, principal, id);
    const { minutes } = await parseInput(extendSchema, body, 'extend');
    const now = deps.clock.now();
    const client = await deps.clients.get(before.clientId);
    const extension = extendDeadline(before, minutes, now, maxAutoTerminateMinutes(client), deadlinePolicyOf(deps));
    const actor = KEY_ACTOR(principal.keyId);
    const { after, event } = transition(before, 'extend', now, actor, `Auto-terminate moved to ${extension.autoTerminateAt}`, extension);
    await deps.instances.save(
      before,
      after,
      [event],
      businessAction(principal, after.clientId, 'instance.extend', `instance:${id}`, { minutes, autoTerminateAt: extension.autoTerminateAt }, after.updatedAt),
    );
    await deps.deadlines.sync(after, before);
    return after;
  };
}

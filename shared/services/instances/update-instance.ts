import { businessAction } from '../../domain/business-actions.ts';
import { ValidationError } from '../../domain/errors.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { mergeMap, type MapPatch } from '../../domain/merge-patch.ts';
import { MAX_TAGS, updateInstanceSchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from '../preconditions.ts';
import { loadInstance } from './get-instance.ts';

/** Tags or labels after a merge patch (see mergeMap), within the bound every instance keeps. */
export function patchTags(current: Record<string, string>, patch: MapPatch | undefined, field = 'tags'): Record<string, string> {
  if (!patch) return current;
  const next = mergeMap(current, patch);
  const count = Object.keys(next).length;
  if (count > MAX_TAGS) {
    throw new ValidationError(`An instance carries at most ${MAX_TAGS} ${field}; this change would leave ${count}`, [{ path: field, message: `at most ${MAX_TAGS}` }]);
  }
  return next;
}

/**
 * PATCH /api/instances/{id} (updateInstance): name, and tags and labels as merge patches; a
 * terminated instance no longer changes. With If-Match, a stale version is a 412; without, a
 * lost race is merged again onto what the winner wrote.
 */
export function makeUpdateInstance(deps: Pick<ServiceDeps, 'instances' | 'clock'>) {
  return async function updateInstance(principal: Principal, id: string, body: unknown, conditions?: WriteConditions): Promise<Instance> {
    requireRole(principal, 'operator', 'change instances');
    const request = await parseInput(updateInstanceSchema, body, 'update');
    return writeWithRetry('Instance', id, conditions, async () => {
      const before = await loadInstance(deps, principal, id);
      if (before.status === 'TERMINATED') throw new ValidationError(`Instance '${id}' is terminated and can no longer change`, [], 'INSTANCE_TERMINATED');
      requireVersion('Instance', id, before.version, conditions);
      const after: Instance = {
        ...before,
        ...(request.name ? { name: request.name } : {}),
        tags: patchTags(before.tags, request.tags),
        labels: patchTags(before.labels, request.labels, 'labels'),
        updatedAt: deps.clock.now().toISOString(),
        version: before.version + 1,
      };
      await deps.instances.save(
        before,
        after,
        [{ type: 'instance.updated', actor: KEY_ACTOR(principal.keyId), message: `Changed ${Object.keys(request).join(', ')}`, data: request }],
        businessAction(principal, after.clientId, 'instance.update', `instance:${id}`, { changed: Object.keys(request) }, after.updatedAt),
      );
      return after;
    });
  };
}

import { businessAction } from '../../domain/business-actions.ts';
import { ValidationError } from '../../domain/errors.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { updateInstanceSchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from '../preconditions.ts';
import { loadInstance } from './get-instance.ts';

/** A merge patch of tags or labels: a key set to null is removed, the others set, the rest kept. */
export function patchTags(current: Record<string, string>, patch: Record<string, string | null> | undefined): Record<string, string> {
  if (!patch) return current;
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
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
    const request = parseInput(updateInstanceSchema, body, 'update');
    return writeWithRetry('Instance', id, conditions, async () => {
      const before = await loadInstance(deps, principal, id);
      if (before.status === 'TERMINATED') throw new ValidationError(`Instance '${id}' is terminated and can no longer change`, [], 'INSTANCE_TERMINATED');
      requireVersion('Instance', id, before.version, conditions);
      const after: Instance = {
        ...before,
        ...(request.name ? { name: request.name } : {}),
        tags: patchTags(before.tags, request.tags),
        labels: patchTags(before.labels, request.labels),
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

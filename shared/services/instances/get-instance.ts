import { NotFoundError } from '../../domain/errors.ts';
import type { Instance } from '../../domain/instance.ts';
import type { Principal } from '../../domain/roles.ts';
import type { InstanceRef } from '../../ports/workflows.ts';
import type { ServiceDeps } from '../deps.ts';
import { scopeOf } from '../tenancy.ts';

/** One instance as the caller may see it: another client's is a 404. */
export async function loadInstance(deps: Pick<ServiceDeps, 'instances'>, principal: Principal, id: string): Promise<Instance> {
  const scope = scopeOf(principal);
  const instance = scope ? await deps.instances.get(scope, id) : await deps.instances.findById(id);
  if (!instance) throw new NotFoundError('Instance', id);
  return instance;
}

/** GET /api/instances/{id} (getInstance). */
export function makeGetInstance(deps: Pick<ServiceDeps, 'instances'>) {
  return (principal: Principal, id: string): Promise<Instance> => loadInstance(deps, principal, id);
}

/** What a workflow is started with: the instance at the version that asked for it. */
export const workflowRefOf = (instance: Instance): InstanceRef => ({ clientId: instance.clientId, instanceId: instance.id, version: instance.version });

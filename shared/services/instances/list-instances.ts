import type { Instance } from '../../domain/instance.ts';
import type { Principal } from '../../domain/roles.ts';
import { listInstancesQuerySchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { Page } from '../../ports/page.ts';
import type { ServiceDeps } from '../deps.ts';
import { readForClient } from '../tenancy.ts';

/** GET /api/instances (listInstances): one client's instances, filtered, in cursor pages. */
export function makeListInstances(deps: Pick<ServiceDeps, 'instances' | 'clients'>) {
  return async function listInstances(principal: Principal, query: unknown): Promise<Page<Instance>> {
    const q = await parseInput(listInstancesQuerySchema, query, 'query');
    const { result } = await readForClient(deps, principal, q.clientId, (clientId) =>
      deps.instances.list(clientId, { status: q.status, provider: q.provider, type: q.type, userId: q.userId, tag: q.tag }, { limit: q.limit, cursor: q.cursor }),
    );
    return result;
  };
}

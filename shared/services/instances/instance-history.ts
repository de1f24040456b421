import type { InstanceEvent } from '../../domain/events.ts';
import type { Principal } from '../../domain/roles.ts';
import { pageQuerySchema, statsQuerySchema } from '../../domain/schemas.ts';
import { statisticsAt, type Statistics } from '../../domain/statistics.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ResourceSample } from '../../ports/compute-provider.ts';
import type { Page } from '../../ports/page.ts';
import type { ServiceDeps } from '../deps.ts';
import { readForClient } from '../tenancy.ts';
import { loadInstance } from './get-instance.ts';

/** GET /api/instances/{id}/events (listInstanceEvents): oldest first. */
export function makeListInstanceEvents(deps: Pick<ServiceDeps, 'instances'>) {
  return async function listInstanceEvents(principal: Principal, id: string, query: unknown): Promise<Page<InstanceEvent>> {
    const page = await parseInput(pageQuerySchema, query, 'query');
    const instance = await loadInstance(deps, principal, id);
    return deps.instances.events(instance.id, page);
  };
}

/** GET /api/instances/{id}/metrics (listInstanceMetrics): recent samples, newest first. */
export function makeListInstanceMetrics(deps: Pick<ServiceDeps, 'instances'>) {
  return async function listInstanceMetrics(principal: Principal, id: string, query: unknown): Promise<Page<ResourceSample>> {
    const page = await parseInput(pageQuerySchema, query, 'query');
    const instance = await loadInstance(deps, principal, id);
    return deps.instances.samples(instance.id, page);
  };
}

/** GET /api/instances/stats (getInstanceStats): read in O(1) from the counters kept with each change. */
export function makeGetInstanceStats(deps: Pick<ServiceDeps, 'instances' | 'clients' | 'clock'>) {
  return async function getInstanceStats(principal: Principal, query: unknown): Promise<Statistics & { clientId: string; userId?: string }> {
    const q = await parseInput(statsQuerySchema, query, 'query');
    const { clientId, result: counters } = await readForClient(deps, principal, q.clientId, (clientId) => deps.instances.counters({ clientId, userId: q.userId }));
    return { clientId, ...(q.userId ? { userId: q.userId } : {}), ...statisticsAt(counters, deps.clock.now()) };
  };
}

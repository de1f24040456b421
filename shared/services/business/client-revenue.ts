import { requireRole, type Principal } from '../../domain/roles.ts';
import { revenueOf, type Revenue } from '../../domain/revenue.ts';
import { revenueQuerySchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { resolveClient } from '../tenancy.ts';
import { allInstancesOf } from './client-spend.ts';

/**
 * GET /api/clients/{id}/revenue: what the client's instances earned within [from, to), exact
 * to the micro (domain `revenueOf` over their status histories), terminated ones included. A
 * client's admin reads its own; the platform admin any client, by id or by name.
 */
export function makeClientRevenue(deps: Pick<ServiceDeps, 'clients' | 'instances'>) {
  return async function clientRevenue(principal: Principal, clientId: string, query: unknown): Promise<Revenue & { clientId: string; groupBy?: string }> {
    requireRole(principal, 'admin', 'read revenue');
    const q = await parseInput(revenueQuerySchema, query, 'query');
    const client = await resolveClient(deps, principal, clientId);
    const instances = await allInstancesOf(deps.instances, client.clientId);
    return { clientId: client.clientId, ...(q.groupBy ? { groupBy: q.groupBy } : {}), ...revenueOf(instances, Date.parse(q.from), Date.parse(q.to), q.groupBy) };
  };
}

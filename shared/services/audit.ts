import type { BusinessAction } from '../domain/business-actions.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../domain/roles.ts';
import { auditQuerySchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validate.ts';
import type { BusinessActionRepository } from '../ports/business-action-repository.ts';
import type { Page } from '../ports/page.ts';
import type { ServiceDeps } from './deps.ts';
import { resolveClient } from './tenancy.ts';

/**
 * The business-action log as each caller may read it: a client's admin its own client's, the
 * platform admin every client's or one client's (named by id or by name).
 */
export function makeAuditService(deps: Pick<ServiceDeps, 'clients'> & { actions: BusinessActionRepository }) {
  async function list(principal: Principal, query: unknown): Promise<Page<BusinessAction>> {
    requireRole(principal, 'admin', 'read the audit log');
    const q = await parseInput(auditQuerySchema, query, 'query');
    const clientId = isPlatformAdmin(principal) && !q.clientId ? undefined : (await resolveClient(deps, principal, q.clientId)).clientId;
    return deps.actions.list(
      { ...(clientId ? { clientId } : {}), action: q.action, actor: q.actor, from: q.from, to: q.to },
      { limit: q.limit, cursor: q.cursor },
    );
  }
  return { list };
}

export type AuditService = ReturnType<typeof makeAuditService>;

import { ValidationError } from '../domain/errors.ts';
import { type Principal, requireRole } from '../domain/roles.ts';
import { parseInput } from '../domain/validate.ts';
import { z } from 'zod';
import type { CatalogItem, CatalogKind } from '../ports/compute-provider.ts';
import type { ProviderRegistry } from '../ports/providers.ts';
import type { makeAccountService } from './accounts.ts';

/** URL spelling of each catalog kind. */
const KIND_BY_SEGMENT: Record<string, CatalogKind> = {
  flavors: 'flavors',
  'instance-types': 'flavors',
  images: 'images',
  networks: 'networks',
  subnets: 'subnets',
  'security-groups': 'securityGroups',
  'key-pairs': 'keyPairs',
};

const catalogQuerySchema = z.object({
  accountId: z.string().min(1).optional(),
  provider: z.enum(['LOCAL', 'EXTERNAL']).optional(),
  region: z.string().min(1).max(64).optional(),
  clientId: z.string().min(1).optional(),
});

/** The live catalog: what an account (or LOCAL) offers now, read through its adapter. */
export function makeCatalogService(deps: { providers: ProviderRegistry; accounts: ReturnType<typeof makeAccountService> }) {
  async function listLive(principal: Principal, segment: string, query: unknown): Promise<{ kind: CatalogKind; items: CatalogItem[] }> {
    requireRole(principal, 'viewer', 'read the catalog');
    const kind = KIND_BY_SEGMENT[segment];
    if (!kind) {
      throw new ValidationError(`Unknown catalog '${segment}'; expected one of ${Object.keys(KIND_BY_SEGMENT).join(', ')}`, [{ path: 'kind', message: 'unknown' }]);
    }
    const q = parseInput(catalogQuerySchema, query ?? {}, 'query');
    if (!q.accountId) {
      if (!q.provider) throw new ValidationError('Give accountId (a cloud account) or provider=LOCAL', [{ path: 'accountId', message: 'required' }]);
      return { kind, items: await deps.providers.get(q.provider).listCatalog(kind) };
    }
    const account = await deps.accounts.get(principal, q.accountId, q.clientId ? { clientId: q.clientId } : {});
    // accounts.get has already refused another client's account (404).
    const provider = await deps.providers.forInstance({
      provider: account.provider,
      clientId: account.clientId,
      region: q.region ?? account.region,
      config: { accountId: account.accountId },
    });
    return { kind, items: await provider.listCatalog(kind) };
  }

  return { listLive };
}

import { tableFromEnvironment } from '../../shared/db/db.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { created, ok } from '../../shared/http/responses.ts';
import { httpApi, type RouteHandlers } from '../../shared/http/http-api.ts';
import { presentApiKey, presentBudget, presentBusinessAction, presentClient, presentRevenue } from '../../shared/http/present.ts';
import { withETag, writeConditions } from '../../shared/http/preconditions.ts';

export const routes: RouteHandlers<AppDependencies> = {
  getCaller: async ({ principal, deps }) => {
    const client = principal.clientId ? await deps.services.clients.get(principal, principal.clientId) : null;
    return ok({ caller: { keyId: principal.keyId, role: principal.role, clientId: principal.clientId, clientName: client?.name ?? null } });
  },

  createClient: async ({ principal, body, deps }) => {
    const client = await deps.services.clients.create(principal, body);
    return created({ client: presentClient(client) });
  },

  listClients: async ({ principal, query, deps }) => {
    const page = await deps.services.clients.list(principal, query);
    return ok({ clients: page.items.map(presentClient), count: page.items.length, nextCursor: page.cursor });
  },

  getClient: async ({ principal, params, deps }) => {
    const client = await deps.services.clients.get(principal, params.id!);
    return withETag(ok({ client: presentClient(client) }), client.version);
  },

  updateClient: async ({ principal, params, body, headers, deps }) => {
    const client = await deps.services.clients.update(principal, params.id!, body, writeConditions(headers));
    return withETag(ok({ client: presentClient(client) }), client.version);
  },

  deleteClient: async ({ principal, params, headers, deps }) => {
    return ok({ client: presentClient(await deps.services.clients.remove(principal, params.id!, writeConditions(headers))) });
  },

  createApiKey: async ({ principal, params, body, deps }) => {
    const { record, key } = await deps.services.clients.issueApiKey(principal, params.id!, body);
    return created({ apiKey: presentApiKey(record, key) });
  },

  listApiKeys: async ({ principal, params, deps }) => {
    const keys = await deps.services.clients.listApiKeys(principal, params.id!);
    return ok({ apiKeys: keys.map((k) => presentApiKey(k)), count: keys.length });
  },

  revokeApiKey: async ({ principal, params, deps }) => {
    const record = await deps.services.clients.revokeApiKey(principal, params.id!, params.keyId!);
    deps.authenticator.forget(record.keyHash);
    return ok({ apiKey: presentApiKey(record) });
  },

  getClientRevenue: async ({ principal, params, query, deps }) => {
    return ok({ revenue: presentRevenue(await deps.services.business.revenue(principal, params.id!, query)) });
  },

  getClientBudget: async ({ principal, params, deps }) => {
    return ok({ budget: presentBudget(await deps.services.business.budget(principal, params.id!)) });
  },

  listBusinessActions: async ({ principal, query, deps }) => {
    const page = await deps.services.business.audit.list(principal, query);
    return ok({ actions: page.items.map(presentBusinessAction), count: page.items.length, nextCursor: page.cursor });
  },
};

/** Clients (tenants) and their API keys. */
export const handler = httpApi('clients', routes, () =>
  composeHangar({
    db: tableFromEnvironment(),
  }),
);

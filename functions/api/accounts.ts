import { tableFromEnvironment } from '../../shared/db/db.ts';
import { secretBoxOnFirstUse } from '../../shared/config/on-first-use/secret-box.ts';
import { syncDispatcherOnFirstUse } from '../../shared/config/on-first-use/sync-dispatcher.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { cloudProviderFactory } from '../../shared/config/cloud-providers.ts';
import { presentAccount } from '../../shared/domain/account.ts';
import { httpApi, type RouteHandlers } from '../../shared/http/http-api.ts';
import { accepted, created, ok } from '../../shared/http/responses.ts';
import { presentCatalogItem, presentSyncJob } from '../../shared/http/present.ts';
import { withETag, writeConditions } from '../../shared/http/preconditions.ts';

export const routes: RouteHandlers<AppDependencies> = {
  createAccount: async ({ principal, body, deps }) => {
    const account = await deps.services.accounts.create(principal, body);
    // Its catalog syncs now rather than at the next 5-minute run; the jobs say how that went.
    const syncJobs = await deps.services.sync.syncNewAccount(account, principal.keyId);
    return created({ account: presentAccount(account), syncJobs: syncJobs.map(presentSyncJob) });
  },

  listAccounts: async ({ principal, query, deps }) => {
    const page = await deps.services.accounts.list(principal, query);
    return ok({ accounts: page.items.map(presentAccount), count: page.items.length, nextCursor: page.cursor });
  },

  getAccount: async ({ principal, params, query, deps }) => {
    const account = await deps.services.accounts.get(principal, params.id!, query);
    return withETag(ok({ account: presentAccount(account) }), account.version);
  },

  deleteAccount: async ({ principal, params, query, headers, deps }) => {
    return ok({ account: presentAccount(await deps.services.accounts.remove(principal, params.id!, query, writeConditions(headers))) });
  },

  listCatalog: async ({ principal, params, query, deps }) => {
    const page = await deps.services.catalog.list(principal, params.kind!, query);
    return ok({
      [page.kind]: page.items.map(presentCatalogItem),
      count: page.items.length,
      nextCursor: page.cursor,
      source: page.source,
      syncedAt: page.syncedAt ?? null,
    });
  },

  requestSync: async ({ principal, body, deps }) => {
    const jobs = await deps.services.sync.request(principal, body);
    return accepted({ jobs: jobs.map(presentSyncJob), count: jobs.length });
  },

  listSyncJobs: async ({ principal, query, deps }) => {
    const page = await deps.services.sync.listJobs(principal, query);
    return ok({ jobs: page.items.map(presentSyncJob), count: page.items.length, nextCursor: page.cursor });
  },

  getSyncJob: async ({ principal, params, deps }) => {
    return ok({ job: presentSyncJob(await deps.services.sync.getJob(principal, params.id!)) });
  },

  testAccount: async ({ principal, params, query, deps }) => {
    const { account, test } = await deps.services.accounts.test(principal, params.id!, query);
    return ok({ account: presentAccount(account), test });
  },
};

/** Provider accounts, the catalog and sync: credentials go in once, tested and sealed; they never come back out. */
export const handler = httpApi('accounts', routes, () =>
  composeHangar({
    db: tableFromEnvironment(),
    providerFactory: cloudProviderFactory,
    secretBox: secretBoxOnFirstUse(),
    syncDispatcher: syncDispatcherOnFirstUse,
  }),
);

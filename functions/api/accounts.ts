import { presentAccount } from '../../shared/domain/account.ts';
import { httpApi } from '../../shared/http/http-api.ts';
import { created, ok } from '../../shared/http/responses.ts';

/** Provider accounts: credentials go in once, tested and sealed; they never come back out. */
export const handler = httpApi('accounts', {
  createAccount: async ({ principal, body, deps }) => {
    return created({ account: presentAccount(await deps.services.accounts.create(principal, body)) });
  },

  listAccounts: async ({ principal, query, deps }) => {
    const page = await deps.services.accounts.list(principal, query);
    return ok({ accounts: page.items.map(presentAccount), count: page.items.length, nextCursor: page.cursor });
  },

  getAccount: async ({ principal, params, query, deps }) => {
    return ok({ account: presentAccount(await deps.services.accounts.get(principal, params.id!, query)) });
  },

  deleteAccount: async ({ principal, params, query, deps }) => {
    return ok({ account: presentAccount(await deps.services.accounts.remove(principal, params.id!, query)) });
  },

  listCatalog: async ({ principal, params, query, deps }) => {
    const { kind, items } = await deps.services.catalog.listLive(principal, params.kind!, query);
    return ok({ [kind]: items, count: items.length });
  },

  testAccount: async ({ principal, params, query, deps }) => {
    const { account, test } = await deps.services.accounts.test(principal, params.id!, query);
    return ok({ account: presentAccount(account), test });
  },
});

import { loadZod, z } from '../domain/zod.ts';
import type { AccountRepository } from '../ports/account-repository.ts';
import type { ClientRepository } from '../ports/client-repository.ts';
import type { Page } from '../ports/page.ts';
import {
  type Account,
  type AccountProvider,
  type ConnectionTestResult,
  type Credentials,
  credentialsContext,
  ACCOUNT_PROVIDERS,
  isAccountProvider,
  redactCredentials,
} from '../domain/account.ts';
import { DEFAULT_REGION, type ProviderName } from '../domain/catalog.ts';
import { ConflictError, DomainError, NotFoundError, ProviderError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { businessAction } from '../domain/business-actions.ts';
import { type Principal, requireRole } from '../domain/roles.ts';
import { clientScopeQuerySchema, createAccountSchema, credentialsSchemaFor, listAccountsQuerySchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validate.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from './preconditions.ts';
import type { Clock } from '../ports/clock.ts';
import type { ComputeProvider } from '../ports/compute-provider.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import type { ProviderFactory } from '../ports/providers.ts';
import { resolveClient } from './tenancy.ts';

export type { ProviderFactory } from '../ports/providers.ts';

/** The factory of a deployment that drives no cloud yet. */
export const unavailableProviderFactory: ProviderFactory = (provider) => {
  throw new ValidationError(
    `Provider ${provider} is not available in this deployment`,
    [{ path: 'provider', message: 'not available' }],
    'PROVIDER_NOT_AVAILABLE',
  );
};

export interface AccountServiceDeps {
  accounts: AccountRepository;
  clients: ClientRepository;
  secretBox: SecretBox;
  providerFactory: ProviderFactory;
  clock: Clock;
  /** How long a connection test may take before it counts as failed (default 20 s, within API Gateway's 30 s). */
  connectionTimeoutMs?: number;
}

/** What a workflow needs to act with an account. */
export interface OpenedAccount {
  provider: AccountProvider;
  region: string;
  credentials: Credentials;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Provider accounts: credentials are tested before anything is stored, sealed with the secret
 * box under a context naming the client and the account, and never returned or logged.
 */
export function makeAccountService(deps: AccountServiceDeps) {
  const timeoutMs = deps.connectionTimeoutMs ?? 20_000;

  /** An account the caller may see; another client's is a 404, like any missing one. */
  async function load(principal: Principal, accountId: string, query: unknown): Promise<Account> {
    const { clientId } = await parseInput(clientScopeQuerySchema, query ?? {}, 'query');
    const account =
      principal.role === 'platform-admin' && !clientId
        ? await deps.accounts.findById(accountId)
        : await deps.accounts.get((await resolveClient(deps, principal, clientId)).clientId, accountId);
    if (!account) throw new NotFoundError('Account', accountId);
    return account;
  }

  async function create(principal: Principal, body: unknown): Promise<Account> {
    requireRole(principal, 'admin', 'register provider accounts');
    const request = await parseInput(createAccountSchema, body ?? {}, 'account');
    const client = await resolveClient(deps, principal, request.clientId);
    const provider = accountProviderOf(request.provider);
    const credentials = await parseCredentials(provider, request.credentials);
    const region = request.region ?? DEFAULT_REGION[provider];
    if (provider === 'AWS' && !AWS_REGION.test(region)) {
      throw new ValidationError(`Unknown AWS region '${region}'; expected a region code such as us-east-1`, [
        { path: 'region', message: 'not an AWS region code' },
      ]);
    }

    const test = await testConnection(provider, region, credentials);
    if (!test.ok) throw new ValidationError(test.message, [{ path: 'credentials', message: test.message }], 'CONNECTION_FAILED');

    const now = deps.clock.now().toISOString();
    const accountId = newId('account');
    const account: Account = {
      accountId,
      clientId: client.clientId,
      provider,
      name: request.name,
      region,
      sealedCredentials: await deps.secretBox.seal(JSON.stringify(credentials), credentialsContext({ clientId: client.clientId, accountId })),
      credentialKeys: Object.keys(credentials),
      createdAt: now,
      updatedAt: now,
      createdBy: principal.keyId,
      lastTestedAt: now,
      lastTestResult: test,
      version: 1,
    };
    await deps.accounts.create(account, businessAction(principal, account.clientId, 'account.create', `account:${accountId}`, { provider, name: account.name, region, tested: test.ok }, now));
    return account;
  }

  async function list(principal: Principal, query: unknown): Promise<Page<Account>> {
    requireRole(principal, 'viewer', 'list provider accounts');
    const request = await parseInput(listAccountsQuerySchema, query ?? {}, 'query');
    const client = await resolveClient(deps, principal, request.clientId);
    return deps.accounts.list(client.clientId, { limit: request.limit, ...(request.cursor ? { cursor: request.cursor } : {}) });
  }

  async function get(principal: Principal, accountId: string, query?: unknown): Promise<Account> {
    requireRole(principal, 'viewer', 'read provider accounts');
    return load(principal, accountId, query);
  }

  /** Refused while an instance that is not yet TERMINATED names the account: it needs it to be released. */
  async function remove(principal: Principal, accountId: string, query?: unknown, conditions?: WriteConditions): Promise<Account> {
    requireRole(principal, 'admin', 'delete provider accounts');
    const account = await load(principal, accountId, query);
    requireVersion('Account', accountId, account.version, conditions);
    const users = await deps.accounts.instancesUsing(account.clientId, account.accountId);
    if (users.length > 0) {
      throw new ConflictError(
        `Account '${account.name}' is still used by instance(s) ${users.join(', ')}; terminate them first`,
        'ACCOUNT_IN_USE',
      );
    }
    await writeWithRetry('Account', accountId, conditions, () => deps.accounts.delete(account, businessAction(principal, account.clientId, 'account.delete', `account:${accountId}`, { provider: account.provider, name: account.name }, deps.clock.now().toISOString())), 1);
    return account;
  }

  /** Test the stored credentials now and record the outcome; a failed test is a result, not an error. */
  async function test(principal: Principal, accountId: string, query?: unknown): Promise<{ account: Account; test: ConnectionTestResult }> {
    requireRole(principal, 'operator', 'test provider accounts');
    const before = await load(principal, accountId, query);
    const result = await testConnection(before.provider, before.region, await openSealed(before));
    const now = deps.clock.now().toISOString();
    const after: Account = { ...before, lastTestedAt: now, lastTestResult: result, updatedAt: now, version: before.version + 1 };
    await deps.accounts.save(before, after, businessAction(principal, before.clientId, 'account.test', `account:${accountId}`, { ok: result.ok }, now));
    return { account: after, test: result };
  }

  /** For workflows acting on the client's behalf: the account with its credentials opened. */
  async function openCredentials(clientId: string, accountId: string): Promise<OpenedAccount> {
    const account = await deps.accounts.get(clientId, accountId);
    if (!account) throw new NotFoundError('Account', accountId);
    return { provider: account.provider, region: account.region, credentials: await openSealed(account) };
  }

  async function openSealed(account: Account): Promise<Credentials> {
    return JSON.parse(await deps.secretBox.open(account.sealedCredentials, credentialsContext(account))) as Credentials;
  }

  /**
   * The provider's own verdict. Any failure of the test itself (refused credentials, no route,
   * no answer in time) is a result with the provider's reason; a provider this deployment
   * cannot build is the caller's error and propagates.
   */
  async function testConnection(provider: AccountProvider, region: string, credentials: Credentials): Promise<ConnectionTestResult> {
    let adapter: ComputeProvider;
    try {
      adapter = await deps.providerFactory(provider, { region, credentials });
    } catch (error) {
      if (error instanceof DomainError && !(error instanceof ProviderError)) throw error;
      return { ok: false, message: redactCredentials(reasonOf(provider, error), credentials) };
    }
    try {
      await withTimeout(adapter.testConnection(), timeoutMs, `Cannot connect to ${provider}: no answer within ${Math.round(timeoutMs / 1000)} s`);
      return { ok: true, message: 'Connected' };
    } catch (error) {
      return { ok: false, message: redactCredentials(reasonOf(provider, error), credentials) };
    }
  }

  return { create, list, get, remove, test, openCredentials };
}

export type AccountService = ReturnType<typeof makeAccountService>;

function accountProviderOf(provider: ProviderName): AccountProvider {
  if (provider === 'LOCAL' || provider === 'EXTERNAL') {
    throw new ValidationError(
      'LOCAL and EXTERNAL need no account',
      [{ path: 'provider', message: `${provider} instances need no provider account` }],
      'ACCOUNT_NOT_NEEDED',
    );
  }
  if (!isAccountProvider(provider)) {
    throw new ValidationError(
      `${provider} accounts are not supported yet; supported: ${ACCOUNT_PROVIDERS.join(', ')}`,
      [{ path: 'provider', message: 'not supported yet' }],
      'PROVIDER_NOT_SUPPORTED',
    );
  }
  return provider;
}

/** Validated against the form the fields point at; problems are reported under `credentials.`. */
async function parseCredentials(provider: AccountProvider, raw: Record<string, unknown>): Promise<Credentials> {
  // Wrapped so that every problem's path reads credentials.<field>; the wrapper is built with zod, so load it first.
  await loadZod();
  const schema = z.object({ credentials: credentialsSchemaFor(provider, raw) });
  return (await parseInput(schema, { credentials: raw }, `${provider} credentials`)).credentials;
}

function reasonOf(provider: AccountProvider, error: unknown): string {
  if (error instanceof ProviderError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith('Cannot connect') ? message : `Cannot connect to ${provider}: ${message}`;
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderError(message, 'transient')), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

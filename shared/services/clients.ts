import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Budget, Quotas } from '../domain/budget.ts';
import { businessAction } from '../domain/business-actions.ts';
import type { ApiKeyRecord, Client } from '../domain/client.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from './preconditions.ts';
import { newId } from '../domain/ids.ts';
import { unitsToMicros } from '../domain/money.ts';
import { isPlatformAdmin, type Principal, requireRole } from '../domain/roles.ts';
import { LIMITS, createApiKeySchema, createClientSchema, pageQuerySchema, updateClientSchema, type CreateClientRequest, moneyToMicros } from '../domain/schemas.ts';
import { parseInput } from '../domain/validate.ts';
import { clientNameKey } from '../domain/client.ts';
import type { Page } from '../ports/page.ts';
import { generateApiKey, hashApiKey } from './api-keys.ts';
import type { ServiceDeps } from './deps.ts';

/** Clients (tenants) and their API keys. */
export function makeClientService(deps: Pick<ServiceDeps, 'clients' | 'instances' | 'clock'>) {
  /** A client the caller may see: the platform admin sees all, a client's key only its own. */
  async function load(principal: Principal, clientId: string): Promise<Client> {
    if (!isPlatformAdmin(principal) && principal.clientId !== clientId) throw new NotFoundError('Client', clientId);
    const client = await deps.clients.get(clientId);
    if (!client) throw new NotFoundError('Client', clientId);
    return client;
  }

  async function create(principal: Principal, body: unknown): Promise<Client> {
    requireRole(principal, 'platform-admin', 'create clients');
    const request = await parseInput(createClientSchema, body, 'client');
    const now = deps.clock.now().toISOString();
    const client: Client = {
      clientId: newId('client'),
      name: request.name,
      nameKey: clientNameKey(request.name),
      status: 'active',
      ...(request.contactEmail ? { contactEmail: request.contactEmail } : {}),
      maxInstances: request.maxInstances ?? LIMITS.defaultMaxInstances,
      maxAutoTerminateMinutes: request.maxAutoTerminateMinutes ?? LIMITS.defaultMaxAutoTerminateMinutes,
      ...(request.priceOverrides ? { priceOverrides: toMicros(request.priceOverrides) } : {}),
      ...(request.reconcilePolicy ? { reconcilePolicy: request.reconcilePolicy } : {}),
      ...(request.budget ? { budget: budgetOf(request.budget) } : {}),
      ...(request.quotas ? { quotas: quotasOf(request.quotas) } : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await deps.clients.create(client, businessAction(principal, client.clientId, 'client.create', `client:${client.clientId}`, { name: client.name }, now));
    return client;
  }

  async function list(principal: Principal, query: unknown): Promise<Page<Client>> {
    requireRole(principal, 'platform-admin', 'list clients');
    return deps.clients.list(await parseInput(pageQuerySchema, query, 'query'));
  }

  async function update(principal: Principal, clientId: string, body: unknown, conditions?: WriteConditions): Promise<Client> {
    requireRole(principal, 'platform-admin', 'change clients');
    const request = await parseInput(updateClientSchema, body, 'update');
    const before = await load(principal, clientId);
    requireVersion('Client', clientId, before.version, conditions);
    const { priceOverrides, reconcilePolicy, budget, quotas, ...changes } = request;
    const after: Client = {
      ...before,
      ...changes,
      ...(request.name ? { name: request.name, nameKey: clientNameKey(request.name) } : {}),
      ...(priceOverrides ? { priceOverrides: toMicros(priceOverrides) } : {}),
      ...(reconcilePolicy ? { reconcilePolicy: { ...before.reconcilePolicy, ...reconcilePolicy } } : {}),
      ...(budget ? { budget: budgetOf(budget) } : {}),
      // Quotas merge: a PATCH naming one quota keeps the others.
      ...(quotas ? { quotas: { ...before.quotas, ...quotasOf(quotas) } } : {}),
      updatedAt: deps.clock.now().toISOString(),
      version: before.version + 1,
    };
    await writeWithRetry('Client', clientId, conditions, () => deps.clients.save(before, after, businessAction(principal, clientId, 'client.update', `client:${clientId}`, { changed: Object.keys(request) }, after.updatedAt)), 1);
    return after;
  }

  /** Only a client with nothing left running may go; its history stays readable by id. */
  async function remove(principal: Principal, clientId: string, conditions?: WriteConditions): Promise<Client> {
    requireRole(principal, 'platform-admin', 'delete clients');
    const client = await load(principal, clientId);
    requireVersion('Client', clientId, client.version, conditions);
    const counters = await deps.instances.counters({ clientId });
    if (counters.live > 0) {
      throw new ConflictError(`Client '${client.name}' still has ${counters.live} instance(s); terminate them first`, 'CLIENT_HAS_INSTANCES');
    }
    for (const key of await deps.clients.listApiKeys(clientId)) await deps.clients.deleteApiKey(key.keyHash);
    await writeWithRetry('Client', clientId, conditions, () => deps.clients.delete(client, businessAction(principal, clientId, 'client.delete', `client:${clientId}`, { name: client.name }, deps.clock.now().toISOString())), 1);
    return client;
  }

  /** Issue a key: the platform admin for any client, a client's admin for its own. */
  async function issueApiKey(principal: Principal, clientId: string, body: unknown): Promise<{ record: ApiKeyRecord; key: string }> {
    requireRole(principal, 'admin', 'issue API keys');
    const request = await parseInput(createApiKeySchema, body ?? {}, 'API key');
    const client = await load(principal, clientId);
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      keyHash: hashApiKey(key),
      keyId: newId('key'),
      clientId: client.clientId,
      name: request.name,
      role: request.role,
      prefix: key.slice(0, 8),
      createdAt: deps.clock.now().toISOString(),
      createdBy: principal.keyId,
      version: 1,
    };
    await deps.clients.putApiKey(record, businessAction(principal, client.clientId, 'api-key.create', `api-key:${record.keyId}`, { name: record.name, role: record.role }, record.createdAt));
    return { record, key };
  }

  async function listApiKeys(principal: Principal, clientId: string): Promise<ApiKeyRecord[]> {
    requireRole(principal, 'admin', 'list API keys');
    await load(principal, clientId);
    return deps.clients.listApiKeys(clientId);
  }

  async function revokeApiKey(principal: Principal, clientId: string, keyId: string): Promise<ApiKeyRecord> {
    requireRole(principal, 'admin', 'revoke API keys');
    await load(principal, clientId);
    const record = (await deps.clients.listApiKeys(clientId)).find((k) => k.keyId === keyId);
    if (!record) throw new NotFoundError('API key', keyId);
    if (record.keyId === principal.keyId) throw new ValidationError('A key cannot revoke itself; use another admin key', [], 'SELF_REVOCATION');
    await deps.clients.deleteApiKey(record.keyHash, businessAction(principal, clientId, 'api-key.revoke', `api-key:${record.keyId}`, { name: record.name }, deps.clock.now().toISOString()));
    return record;
  }

  return { get: load, create, list, update, remove, issueApiKey, listApiKeys, revokeApiKey };
}

export type ClientService = ReturnType<typeof makeClientService>;

const budgetOf = (budget: NonNullable<CreateClientRequest['budget']>): Budget => ({
  monthlyLimitMicros: moneyToMicros(budget.monthlyLimit),
  // `stop` acts on crossing 100%, so a stop budget always watches 100.
  thresholds: [...new Set([...budget.thresholds, ...(budget.action === 'stop' ? [100] : [])])].sort((a, b) => a - b),
  action: budget.action,
});

const quotasOf = (quotas: NonNullable<CreateClientRequest['quotas']>): Quotas => {
  const { costPerHour, ...counts } = quotas;
  return { ...counts, ...(costPerHour !== undefined ? { costPerHourMicros: moneyToMicros(costPerHour) } : {}) };
};

const toMicros = (prices: Record<string, string>) =>
  Object.fromEntries(Object.entries(prices).map(([key, units]) => [key, unitsToMicros(units)]));

/**
 * Provider accounts over DynamoDB Local, with a real local secret box and a fake provider
 * factory whose connection test passes or fails on command: credentials are tested before
 * anything is stored, stored sealed, and never shown, over the service and over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { routes as accountRoutes } from '../../functions/api/accounts.ts';
import { lambdaContext } from '../../infra/local/gateway.ts';
import { LocalSecretBox } from '../../shared/adapters/local/local-secret-box.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { httpApi } from '../../shared/http/http-api.ts';
import { DynamoAccountRepository } from '../../shared/adapters/dynamodb/account-repository.ts';
import { createDb } from '../../shared/db/db.ts';
import type { Credentials } from '../../shared/domain/account.ts';
import type { ProviderName } from '../../shared/domain/catalog.ts';
import type { Client } from '../../shared/domain/client.ts';
import { ConflictError, ForbiddenError, NotFoundError, ProviderError, ValidationError } from '../../shared/domain/errors.ts';
import type { Principal } from '../../shared/domain/roles.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { ComputeProvider } from '../../shared/ports/compute-provider.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, makeInstance, principalFor } from '../support/fakes.ts';
import { areaCaller } from '../support/http-event.ts';
import { rejection } from '../support/rejection.ts';

const PASSWORD = 'S3cret-Pa55word-that-must-never-leak';
const APP_SECRET = 'app-cred-secret-0f9e8d7c6b5a';

const openstackPassword = (extra: Record<string, unknown> = {}) => ({
  provider: 'OPENSTACK',
  name: 'Lab cloud',
  region: 'RegionOne',
  credentials: {
    authUrl: 'https://keystone.example.com:5000/v3',
    username: 'hangar',
    password: PASSWORD,
    userDomainName: 'Default',
    projectName: 'hangar-lab',
    projectDomainName: 'Default',
  },
  ...extra,
});

/** The provider factory the service is given: records what it was asked to build and answers as told. */
class FakeProviderFactory {
  verdict: Error | null = null;
  readonly built: { provider: ProviderName; region: string; credentials: Credentials }[] = [];

  readonly make = (provider: ProviderName, account: { region: string; credentials: Credentials }): ComputeProvider => {
    this.built.push({ provider, ...account });
    const fake = new FakeProvider({ name: provider });
    fake.testConnection = async () => {
      if (this.verdict) throw this.verdict;
    };
    return fake;
  };
}

const REFUSED = () => new ProviderError('Cannot connect to OpenStack at https://x: 401 Unauthorized', 'auth');

let table: TestTable;
let deps: AppDependencies;
let factory: FakeProviderFactory;
let clock: ManualClock;
let home: string;

beforeAll(async () => {
  table = await createTestTable('accounts');
  home = await mkdtemp(join(tmpdir(), 'hangar-accounts-'));
  factory = new FakeProviderFactory();
  clock = new ManualClock(new Date('2026-05-01T09:00:00.000Z'));
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    providers: [new FakeProvider({ name: 'LOCAL' })],
    workflows: () => new RecordingWorkflows(),
    clock,
    secretBox: new LocalSecretBox({ keyFile: join(home, 'secret.key') }),
    providerFactory: factory.make,
  });
});
afterAll(async () => {
  await deleteTestTable(table);
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => {
  factory.verdict = null;
  factory.built.length = 0;
});

let clientSeq = 0;
async function newClient(): Promise<{ client: Client; admin: Principal; operator: Principal; viewer: Principal }> {
  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: `Accounts Tenant ${++clientSeq}` });
  return {
    client,
    admin: principalFor(client.clientId, 'admin'),
    operator: principalFor(client.clientId, 'operator'),
    viewer: principalFor(client.clientId, 'viewer'),
  };
}

/** Every item in a client's partition, raw, as DynamoDB holds it. */
async function partition(clientId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await deps.db.doc.send(
    new QueryCommand({ TableName: deps.db.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CLIENT#${clientId}` } }),
  );
  return Items ?? [];
}

const accountItems = async (clientId: string) => (await partition(clientId)).filter((item) => String(item.sk).startsWith('ACCOUNT#'));

describe('creating an account', () => {
  it('refuses credentials the provider rejects, with its reason, and stores nothing', async () => {
    const { client, admin } = await newClient();
    factory.verdict = REFUSED();
    const error = await rejection<Error>(deps.services.accounts.create(admin, openstackPassword()));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, code: 'CONNECTION_FAILED', message: 'Cannot connect to OpenStack at https://x: 401 Unauthorized' });
    expect(factory.built).toEqual([{ provider: 'OPENSTACK', region: 'RegionOne', credentials: openstackPassword().credentials }]);
    expect(await accountItems(client.clientId)).toEqual([]);
    expect((await deps.services.accounts.list(admin, {})).items).toEqual([]);
  });

  it('stores a tested account with its credentials sealed: the raw item holds no secret', async () => {
    const { client, admin } = await newClient();
    const account = await deps.services.accounts.create(admin, openstackPassword());
    expect(account).toMatchObject({
      clientId: client.clientId,
      provider: 'OPENSTACK',
      name: 'Lab cloud',
      region: 'RegionOne',
      credentialKeys: ['authUrl', 'username', 'password', 'userDomainName', 'projectName', 'projectDomainName'],
      createdAt: '2026-05-01T09:00:00.000Z',
      lastTestedAt: '2026-05-01T09:00:00.000Z',
      lastTestResult: { ok: true, message: 'Connected' },
      createdBy: admin.keyId,
      version: 1,
    });
    expect(account.accountId).toMatch(/^account-[a-z0-9]{12}$/);

    const { Item } = await deps.db.doc.send(
      new GetCommand({ TableName: deps.db.tableName, Key: { pk: `CLIENT#${client.clientId}`, sk: `ACCOUNT#${account.accountId}` } }),
    );
    expect(Item).toMatchObject({ entityType: 'account', accountId: account.accountId, gsi1pk: `ACCOUNT#${account.accountId}` });
    const raw = JSON.stringify(Item);
    expect(raw).not.toContain(PASSWORD);
    expect(raw).not.toContain('hangar-lab');
    expect(raw).not.toContain(Buffer.from(PASSWORD).toString('base64').slice(0, 12));
    expect(Item!.sealedCredentials).toMatchObject({ scheme: 'local-aes-256-gcm' });

    // The workflows get them back.
    expect(await deps.services.accounts.openCredentials(client.clientId, account.accountId)).toEqual({
      provider: 'OPENSTACK',
      region: 'RegionOne',
      credentials: openstackPassword().credentials,
    });
  });

  it('accepts each documented credential form', async () => {
    const { admin } = await newClient();
    const forms = [
      { provider: 'OPENSTACK', credentials: { authUrl: 'https://k.example.com/v3', applicationCredentialId: 'abc123', applicationCredentialSecret: APP_SECRET } },
      { provider: 'AWS', region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } },
      { provider: 'AWS', credentials: { roleArn: 'arn:aws:iam::123456789012:role/hangar', externalId: 'tenant-42' } },
      { provider: 'AWS', credentials: {} },
    ];
    for (const form of forms) {
      const account = await deps.services.accounts.create(admin, { name: `${form.provider} account`, ...form });
      expect(account.credentialKeys).toEqual(Object.keys(form.credentials));
    }
    expect(factory.built.map((b) => b.region)).toEqual(['RegionOne', 'eu-west-1', 'us-east-1', 'us-east-1']);
  });

  it('explains what is wrong with the credentials, against the form they point at, and tests nothing', async () => {
    const { admin } = await newClient();
    const missing = await rejection<Error>(deps.services.accounts.create(admin, openstackPassword({ credentials: { authUrl: 'https://k.example.com/v3', username: 'u' } })));
    expect(missing).toBeInstanceOf(ValidationError);
    expect((missing as ValidationError).details.map((d) => d.path)).toEqual(['credentials.password', 'credentials.projectName']);
    expect(missing.message).not.toContain(PASSWORD);

    const halfApp = await rejection<Error>(
      deps.services.accounts.create(admin, { provider: 'OPENSTACK', name: 'x', credentials: { authUrl: 'https://k/v3', applicationCredentialId: 'id' } }),
    );
    expect((halfApp as ValidationError).details).toEqual([{ path: 'credentials.applicationCredentialSecret', message: 'applicationCredentialSecret is required' }]);

    const badUrl = await rejection<Error>(deps.services.accounts.create(admin, openstackPassword({ credentials: { ...openstackPassword().credentials, authUrl: 'keystone' } })));
    expect(badUrl.message).toMatch(/authUrl must be the Keystone URL/);

    const stray = await rejection<Error>(deps.services.accounts.create(admin, { provider: 'AWS', name: 'x', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's', pasword: 'typo' } }));
    expect(stray.message).toMatch(/pasword/);

    const region = await rejection<Error>(deps.services.accounts.create(admin, { provider: 'AWS', name: 'x', region: 'Virginia', credentials: {} }));
    expect(region.message).toMatch(/Unknown AWS region 'Virginia'/);
    expect(factory.built).toEqual([]);
  });

  it('needs no account for LOCAL and EXTERNAL', async () => {
    const { admin } = await newClient();
    for (const provider of ['LOCAL', 'EXTERNAL']) {
      const error = await rejection<Error>(deps.services.accounts.create(admin, { provider, name: 'x', credentials: {} }));
      expect(error).toMatchObject({ status: 400, code: 'ACCOUNT_NOT_NEEDED', message: 'LOCAL and EXTERNAL need no account' });
    }
  });

  it('says so when the deployment cannot drive the provider (the default factory)', async () => {
    const { client } = await newClient();
    const bare = buildAppDependencies({
      db: deps.db,
      providers: [],
      workflows: () => new RecordingWorkflows(),
      secretBox: LocalSecretBox.inMemory(),
    });
    const error = await rejection<Error>(bare.services.accounts.create(principalFor(client.clientId, 'admin'), openstackPassword()));
    expect(error).toMatchObject({ status: 400, code: 'PROVIDER_NOT_AVAILABLE', message: 'Provider OPENSTACK is not available in this deployment' });
    expect(await accountItems(client.clientId)).toEqual([]);
  });

  it('blanks a secret the provider echoes back in its reason', async () => {
    const { admin } = await newClient();
    factory.verdict = new ProviderError(`Cannot connect to OpenStack at https://keystone.example.com:5000/v3: bad password ${PASSWORD}`, 'auth');
    const error = await rejection<Error>(deps.services.accounts.create(admin, openstackPassword()));
    expect(error.message).toBe('Cannot connect to OpenStack at https://keystone.example.com:5000/v3: bad password ***');
  });

  it('turns a plain network failure into a "Cannot connect" reason', async () => {
    const { admin } = await newClient();
    factory.verdict = new Error('getaddrinfo ENOTFOUND keystone.example.com');
    const error = await rejection<Error>(deps.services.accounts.create(admin, openstackPassword()));
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED', message: 'Cannot connect to OPENSTACK: getaddrinfo ENOTFOUND keystone.example.com' });
  });
});

describe('roles and tenancy', () => {
  it('a viewer or an operator cannot create an account (403); a viewer can read', async () => {
    const { admin, operator, viewer } = await newClient();
    expect(await rejection<Error>(deps.services.accounts.create(viewer, openstackPassword()))).toBeInstanceOf(ForbiddenError);
    expect(await rejection<Error>(deps.services.accounts.create(operator, openstackPassword()))).toBeInstanceOf(ForbiddenError);
    expect(factory.built).toEqual([]);
    const account = await deps.services.accounts.create(admin, openstackPassword());
    expect((await deps.services.accounts.get(viewer, account.accountId)).accountId).toBe(account.accountId);
    expect(await rejection<Error>(deps.services.accounts.remove(operator, account.accountId))).toBeInstanceOf(ForbiddenError);
  });

  it("another client's account is a 404 for every operation", async () => {
    const acme = await newClient();
    const globex = await newClient();
    const account = await deps.services.accounts.create(acme.admin, openstackPassword());
    for (const attempt of [
      () => deps.services.accounts.get(globex.admin, account.accountId),
      () => deps.services.accounts.test(globex.admin, account.accountId),
      () => deps.services.accounts.remove(globex.admin, account.accountId),
      () => deps.services.accounts.get(globex.admin, account.accountId, { clientId: acme.client.clientId }),
      () => deps.services.accounts.list(globex.admin, { clientId: acme.client.clientId }),
    ]) {
      expect(await rejection<Error>(attempt())).toBeInstanceOf(NotFoundError);
    }
    expect(factory.built).toHaveLength(1);
    expect(await rejection<Error>(deps.services.accounts.create(globex.admin, openstackPassword({ clientId: acme.client.clientId })))).toBeInstanceOf(NotFoundError);
    expect((await deps.services.accounts.list(globex.admin, {})).items).toEqual([]);
    // Credentials are bound to their record: another client's id does not open them.
    expect(await rejection<Error>(deps.services.accounts.openCredentials(globex.client.clientId, account.accountId))).toBeInstanceOf(NotFoundError);
  });

  it('the platform admin acts for a named client, and finds any account by id', async () => {
    const { client, viewer } = await newClient();
    const account = await deps.services.accounts.create(PLATFORM_ADMIN, openstackPassword({ clientId: client.name }));
    expect(account.clientId).toBe(client.clientId);
    expect((await deps.services.accounts.list(viewer, {})).items.map((a) => a.accountId)).toEqual([account.accountId]);
    expect((await deps.services.accounts.get(PLATFORM_ADMIN, account.accountId)).clientId).toBe(client.clientId);
    expect(await rejection<Error>(deps.services.accounts.create(PLATFORM_ADMIN, openstackPassword()))).toBeInstanceOf(ValidationError);
  });
});

describe('testing again, deleting', () => {
  it('re-tests on demand and records the result, failed or not, without failing the request', async () => {
    const { client, operator } = await newClient();
    const account = await deps.services.accounts.create(principalFor(client.clientId, 'admin'), openstackPassword());

    clock.advance(60_000);
    factory.verdict = REFUSED();
    const failed = await deps.services.accounts.test(operator, account.accountId);
    expect(failed.test).toEqual({ ok: false, message: 'Cannot connect to OpenStack at https://x: 401 Unauthorized' });
    expect(failed.account).toMatchObject({ lastTestedAt: '2026-05-01T09:01:00.000Z', lastTestResult: failed.test, version: 2 });
    // The adapter got the stored credentials back, opened.
    expect(factory.built.at(-1)).toEqual({ provider: 'OPENSTACK', region: 'RegionOne', credentials: openstackPassword().credentials });

    clock.advance(60_000);
    factory.verdict = null;
    const passed = await deps.services.accounts.test(operator, account.accountId);
    expect(passed.test).toEqual({ ok: true, message: 'Connected' });
    const stored = await deps.services.accounts.get(operator, account.accountId);
    expect(stored).toMatchObject({ lastTestedAt: '2026-05-01T09:02:00.000Z', lastTestResult: { ok: true, message: 'Connected' }, version: 3 });
    expect(stored.sealedCredentials).toEqual(account.sealedCredentials);
  });

  it('a stale copy cannot overwrite a newer test result', async () => {
    const { client } = await newClient();
    const account = await deps.services.accounts.create(principalFor(client.clientId, 'admin'), openstackPassword());
    const store = new DynamoAccountRepository(deps.db);
    await store.save(account, { ...account, version: 2, name: 'first' });
    const error = await rejection<Error>(store.save(account, { ...account, version: 2, name: 'second' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT' });
  });

  it('refuses to delete an account that an instance not yet terminated uses; deletes it once none does', async () => {
    const { client, admin } = await newClient();
    const used = await deps.services.accounts.create(admin, openstackPassword());
    const other = await deps.services.accounts.create(admin, openstackPassword({ name: 'Other' }));
    const event = { type: 'instance.created', actor: 'test', message: 'created' };
    await deps.instances.create(
      makeInstance({ id: 'vps-on-cloud-aaaaaa', clientId: client.clientId, provider: 'OPENSTACK', status: 'ERROR', config: { accountId: used.accountId } }),
      event,
    );
    await deps.instances.create(
      makeInstance({ id: 'vps-gone-bbbbbb', clientId: client.clientId, provider: 'OPENSTACK', status: 'TERMINATED', config: { accountId: other.accountId } }),
      event,
    );

    const error = await rejection<Error>(deps.services.accounts.remove(admin, used.accountId));
    expect(error).toMatchObject({ status: 409, code: 'ACCOUNT_IN_USE' });
    expect(error.message).toContain('vps-on-cloud-aaaaaa');

    const removed = await deps.services.accounts.remove(admin, other.accountId);
    expect(removed.accountId).toBe(other.accountId);
    expect(await rejection<Error>(deps.services.accounts.get(admin, other.accountId))).toBeInstanceOf(NotFoundError);
    expect((await accountItems(client.clientId)).map((i) => i.accountId)).toEqual([used.accountId]);
  });
});

describe('over HTTP', () => {
  let seq = 0;
  async function call(
    method: string,
    path: string,
    options: { key: string; body?: unknown; query?: Record<string, string>; idempotencyKey?: string },
  ): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
    const id = path.match(/^\/api\/accounts\/([^/]+)/)?.[1];
    const template = path.replace(/^\/api\/accounts\/[^/]+/, '/api/accounts/{id}');
    const requestId = `req-${++seq}`;
    const event = {
      version: '2.0',
      routeKey: `${method} ${template}`,
      rawPath: path,
      rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
      headers: {
        authorization: `Bearer ${options.key}`,
        'content-type': 'application/json',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      ...(options.query ? { queryStringParameters: options.query } : {}),
      ...(id ? { pathParameters: { id } } : {}),
      requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId, routeKey: `${method} ${template}`, stage: '$default' },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const accountsHandler = httpApi('accounts', accountRoutes, () => deps);
    const result = (await accountsHandler(event, lambdaContext('accounts', requestId))) as APIGatewayProxyStructuredResultV2;
    const raw = result.body ?? '';
    return { status: result.statusCode ?? 0, body: JSON.parse(raw) as Record<string, unknown>, raw };
  }

  async function keysFor(client: Client) {
    const issue = async (role: 'admin' | 'viewer') =>
      (await deps.services.clients.issueApiKey(PLATFORM_ADMIN, client.clientId, { name: role, role })).key;
    return { admin: await issue('admin'), viewer: await issue('viewer') };
  }

  it('creates (201), lists, gets and tests without ever sending a credential back', async () => {
    const { client } = await newClient();
    const keys = await keysFor(client);
    const created = await call('POST', '/api/accounts', { key: keys.admin, body: openstackPassword(), idempotencyKey: 'create-1' });
    expect(created.status).toBe(201);
    const account = created.body.account as Record<string, unknown>;
    expect(Object.keys(account).sort()).toEqual(
      ['clientId', 'createdAt', 'credentialKeys', 'id', 'lastTestResult', 'lastTestedAt', 'name', 'provider', 'region', 'updatedAt'].sort(),
    );
    expect(account.credentialKeys).toContain('password');

    // The same Idempotency-Key and body replays the first answer: one account, one test.
    const builtBefore = factory.built.length;
    const replay = await call('POST', '/api/accounts', { key: keys.admin, body: openstackPassword(), idempotencyKey: 'create-1' });
    expect(replay.status).toBe(201);
    expect((replay.body.account as { id: string }).id).toBe(account.id);
    expect(factory.built.length).toBe(builtBefore);

    const listed = await call('GET', '/api/accounts', { key: keys.viewer });
    expect(listed).toMatchObject({ status: 200, body: { success: true, count: 1 } });
    const got = await call('GET', `/api/accounts/${String(account.id)}`, { key: keys.viewer });
    expect(got.status).toBe(200);
    factory.verdict = REFUSED();
    const tested = await call('POST', `/api/accounts/${String(account.id)}/test`, { key: keys.admin });
    expect(tested).toMatchObject({ status: 200, body: { test: { ok: false, message: 'Cannot connect to OpenStack at https://x: 401 Unauthorized' } } });

    for (const response of [created, replay, listed, got, tested]) {
      expect(response.raw).not.toContain(PASSWORD);
      expect(response.raw).not.toContain('sealed');
      expect(response.raw).not.toContain('ciphertext');
    }
  });

  it('answers a refused connection with a 400 CONNECTION_FAILED and the reason', async () => {
    const { client } = await newClient();
    const keys = await keysFor(client);
    factory.verdict = REFUSED();
    const response = await call('POST', '/api/accounts', { key: keys.admin, body: openstackPassword() });
    expect(response).toMatchObject({
      status: 400,
      body: { success: false, code: 'CONNECTION_FAILED', error: 'Cannot connect to OpenStack at https://x: 401 Unauthorized' },
    });
    expect(response.raw).not.toContain(PASSWORD);
    expect(await accountItems(client.clientId)).toEqual([]);
  });

  it('a viewer key cannot create (403); another client is a 404', async () => {
    const acme = await newClient();
    const globex = await newClient();
    const acmeKeys = await keysFor(acme.client);
    const globexKeys = await keysFor(globex.client);
    expect((await call('POST', '/api/accounts', { key: acmeKeys.viewer, body: openstackPassword() })).status).toBe(403);
    const created = await call('POST', '/api/accounts', { key: acmeKeys.admin, body: openstackPassword() });
    const id = String((created.body.account as { id: string }).id);
    expect((await call('GET', `/api/accounts/${id}`, { key: globexKeys.admin })).status).toBe(404);
    expect((await call('DELETE', `/api/accounts/${id}`, { key: globexKeys.admin })).status).toBe(404);
    expect((await call('DELETE', `/api/accounts/${id}`, { key: acmeKeys.admin })).status).toBe(200);
  });
});


describe('accounts as business actions', () => {
  it('registering, testing and deleting an account are logged with the change, for the client', async () => {
    const { client, admin } = await newClient();
    const account = await deps.services.accounts.create(admin, openstackPassword());
    await deps.services.accounts.test(admin, account.accountId);
    await deps.services.accounts.remove(admin, account.accountId);
    const log = await deps.services.business.audit.list(admin, { action: 'account' });
    expect(log.items.map((a) => [a.action, a.target, a.clientId])).toEqual([
      ['account.delete', `account:${account.accountId}`, client.clientId],
      ['account.test', `account:${account.accountId}`, client.clientId],
      ['account.create', `account:${account.accountId}`, client.clientId],
    ]);
  });
});

describe('conditional deletes', () => {
  it('answers GET with the account\'s ETag and refuses a DELETE at a stale one with 412, keeping the account', async () => {
    const { client } = await newClient();
    const { key } = await deps.services.clients.issueApiKey(PLATFORM_ADMIN, client.clientId, { name: 'admin', role: 'admin' });
    const call = areaCaller('accounts', accountRoutes, () => deps);
    const created = await call('POST', '/api/accounts', { key, body: openstackPassword() });
    const id = created.body.account.id as string;
    const first = await call('GET', `/api/accounts/${id}`, { key });
    expect(first.headers.etag).toBe('"1"');

    await call('POST', `/api/accounts/${id}/test`, { key }); // a test is recorded on the account: version 2
    const stale = await call('DELETE', `/api/accounts/${id}`, { key, headers: { 'if-match': first.headers.etag! } });
    expect(stale).toMatchObject({ status: 412, body: { code: 'PRECONDITION_FAILED' } });
    expect((await call('GET', `/api/accounts/${id}`, { key })).status).toBe(200);

    const current = (await call('GET', `/api/accounts/${id}`, { key })).headers.etag!;
    expect(current).toBe('"2"');
    expect((await call('DELETE', `/api/accounts/${id}`, { key, headers: { 'if-match': current } })).status).toBe(200);
    expect(await accountItems(client.clientId)).toEqual([]);
  });
});

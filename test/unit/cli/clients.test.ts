import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const CLIENT_ID = 'client-01hx7f3k2m';
const issued = (clientId: string) =>
  ok({ success: true, apiKey: { id: 'key-1', name: 'ops', role: 'operator', key: 'hgr_secret', clientId } }, 201);

describe('hangar create api-key', () => {
  it('takes a client id as it is', async () => {
    api = await startFakeApi((req) => (req.path === `/api/clients/${CLIENT_ID}/api-keys` ? issued(CLIENT_ID) : fail(404, 'NOT_FOUND', 'no')));
    const result = await runCli(['--url', api.url, '--api-key', 'hk_admin', 'create', 'api-key', CLIENT_ID, '--name', 'ops', '--role', 'operator']);
    expect(result.code).toBe(0);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/clients/${CLIENT_ID}/api-keys`]);
    expect(api.requests[0]!.body).toEqual({ name: 'ops', role: 'operator' });
    expect(result.stdout).toContain(`for client ${CLIENT_ID}`);
  });

  it("takes a client's name: finds its id in the client list (every page) and issues the key for it", async () => {
    api = await startFakeApi((req) => {
      if (req.method === 'GET' && req.path === '/api/clients') {
        return req.query.get('cursor') === 'page-2'
          ? ok({ success: true, clients: [{ id: CLIENT_ID, name: 'Tech Solutions Inc' }], nextCursor: null })
          : ok({ success: true, clients: [{ id: 'client-other', name: 'Another Business' }], nextCursor: 'page-2' });
      }
      if (req.path === `/api/clients/${CLIENT_ID}/api-keys`) return issued(CLIENT_ID);
      return fail(404, 'NOT_FOUND', `Client '${decodeURIComponent(req.path.split('/')[3]!)}' not found`);
    });
    const result = await runCli(['--url', api.url, '--api-key', 'hk_admin', 'create', 'api-key', 'tech solutions inc', '--name', 'ops']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.requests.map((r) => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ''}`)).toEqual([
      'POST /api/clients/tech%20solutions%20inc/api-keys',
      'GET /api/clients',
      'GET /api/clients?cursor=page-2',
      `POST /api/clients/${CLIENT_ID}/api-keys`,
    ]);
    expect(result.stdout).toContain(`for client ${CLIENT_ID}`);
    expect(result.stdout).toContain('hgr_secret');
  });

  it('reports the 404 when no client has that id or name', async () => {
    api = await startFakeApi((req) =>
      req.method === 'GET' ? ok({ success: true, clients: [{ id: CLIENT_ID, name: 'Tech Solutions Inc' }] }) : fail(404, 'NOT_FOUND', "Client 'nobody' not found"),
    );
    const result = await runCli(['--url', api.url, '--api-key', 'hk_admin', 'create', 'api-key', 'nobody', '--name', 'ops']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Error (NOT_FOUND): Client 'nobody' not found");
  });

  it("reports the 404 when the key may not list clients (a client admin names another client)", async () => {
    api = await startFakeApi((req) =>
      req.method === 'GET' ? fail(403, 'FORBIDDEN', 'platform-admin only') : fail(404, 'NOT_FOUND', "Client 'elsewhere' not found"),
    );
    const result = await runCli(['--url', api.url, '--api-key', 'hk_client_admin', 'create', 'api-key', 'elsewhere', '--name', 'ops']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NOT_FOUND');
    expect(result.stderr).not.toContain('FORBIDDEN');
  });
});

describe('the platform admin without a client', () => {
  it('turns "clientId is required" into a hint naming --client', async () => {
    api = await startFakeApi(() =>
      fail(400, 'VALIDATION_ERROR', 'clientId is required when acting as the platform admin', [
        { path: 'clientId', message: 'name the client (by id or by name) this request acts for' },
      ]),
    );
    const result = await runCli(['--url', api.url, '--api-key', 'hk_admin', 'list', 'instances']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'Error (VALIDATION_ERROR): clientId is required when acting as the platform admin',
      '  clientId: name the client (by id or by name) this request acts for',
      '  Hint: with the platform admin key, name the client this acts for: --client <client id or name>.',
    ]);
  });

  it('adds no hint to other validation errors', async () => {
    api = await startFakeApi(() => fail(400, 'VALIDATION_ERROR', 'The request is not valid', [{ path: 'name', message: 'bad' }]));
    const result = await runCli(['--url', api.url, '--api-key', 'hk_admin', 'list', 'instances']);
    expect(result.stderr).not.toContain('--client');
  });
});

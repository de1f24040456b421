import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, instance, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A port that was just free: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('error envelope', () => {
  it('prints "Error (<code>): <error>" and each detail on its own line to stderr, exit 1', async () => {
    api = await startFakeApi(() =>
      fail(400, 'VALIDATION_ERROR', 'The request is not valid', [
        { path: 'resources.disk', message: 'resources.disk must be at least 30 GB' },
        { path: 'config.autoTerminateMinutes', message: 'autoTerminateMinutes must be at most 120' },
        'a plain string detail',
      ]),
    );
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web', '--disk', '10', '--auto-terminate', '500']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'Error (VALIDATION_ERROR): The request is not valid',
      '  resources.disk: resources.disk must be at least 30 GB',
      '  config.autoTerminateMinutes: autoTerminateMinutes must be at most 120',
      '  a plain string detail',
    ]);
  });

  it('reports the error on stderr under --json too, and a 404 is not retried', async () => {
    api = await startFakeApi(() => fail(404, 'NOT_FOUND', "Instance 'vps-x-000000' was not found"));
    const result = await runCli(['--url', api.url, '--json', 'instance', 'status', 'vps-x-000000']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("Error (NOT_FOUND): Instance 'vps-x-000000' was not found\n");
    expect(api.requests).toHaveLength(1);
  });

  it('a 401 without a configured key says how to give one', async () => {
    api = await startFakeApi(() => fail(401, 'UNAUTHORIZED', 'Missing or invalid API key'));
    const result = await runCli(['--url', api.url, 'list', 'instances']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error (UNAUTHORIZED): Missing or invalid API key');
    expect(result.stderr).toContain('pass --api-key or set HANGAR_API_KEY');
  });

  it('shows the request id of an internal error', async () => {
    api = await startFakeApi(() => ({
      status: 500,
      body: { success: false, error: 'Internal error', code: 'INTERNAL_ERROR', details: [], requestId: 'req-42' },
    }));
    const result = await runCli(['--url', api.url, 'stats']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('request id: req-42');
  });

  it('a response that is not JSON names the request and the status', async () => {
    api = await startFakeApi(() => ({ status: 502, raw: '<html><body>Bad Gateway</body></html>' }));
    const result = await runCli(['--url', api.url, 'list', 'clients']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Unexpected response from GET ${api.url}/api/clients: HTTP 502 (not JSON)`);
    expect(result.stderr).toContain('Bad Gateway');
  });
});

describe('connection problems', () => {
  it('connection refused names the URL and suggests npm start', async () => {
    const port = await closedPort();
    const result = await runCli(['list', 'instances'], { env: { HANGAR_URL: `http://localhost:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Cannot connect to Hangar at http://localhost:${port} (connection refused)`);
    expect(result.stderr).toContain('npm start');
    // Refused is not worth retrying: it fails at once.
    expect(result.sleeps).toEqual([]);
  });

  it('retries a dropped connection with the same Idempotency-Key, so the create happens once', async () => {
    let calls = 0;
    api = await startFakeApi(() => (calls++ === 0 ? { destroy: true } : ok({ instance: instance() }, 202)));
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(2);
    const [first, second] = api.requests;
    expect(first!.headers['idempotency-key']).toBeTruthy();
    expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
    expect(second!.rawBody).toBe(first!.rawBody);
    expect(result.stdout).toMatch(/^id:\s+vps-web-server-abc123$/m);
  });

  it('retries 503 and "idempotency key in progress", then gives the final answer', async () => {
    const replies = [
      { status: 503, body: { success: false, error: 'Service Unavailable', code: 'UNAVAILABLE' } },
      fail(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still in progress'),
      ok({ instance: instance({ status: 'TERMINATING' }) }, 202),
    ];
    let calls = 0;
    api = await startFakeApi(() => replies[calls++]!);
    const result = await runCli(['--url', api.url, 'delete', 'instance', 'vps-web-server-abc123']);
    expect(result.code).toBe(0);
    expect(new Set(api.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(result.sleeps).toEqual([250, 500]);
  });

  it('gives up after the retries with the last error', async () => {
    api = await startFakeApi(() => ({ destroy: true }));
    const result = await runCli(['--url', api.url, 'list', 'instances']);
    expect(result.code).toBe(1);
    expect(api.requests).toHaveLength(3);
    expect(result.stderr).toContain(`Cannot reach Hangar at ${api.url}`);
  });

  it('rejects a URL that is not http(s)', async () => {
    const result = await runCli(['--url', 'ftp://example.com', 'list', 'instances']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Invalid Hangar URL 'ftp://example.com'");
  });
});

describe('global options', () => {
  it('take HANGAR_URL and HANGAR_API_KEY from the environment; --url and --api-key win', async () => {
    api = await startFakeApi(() => ok({ instances: [], count: 0, nextCursor: null }));
    const fromEnv = await runCli(['list', 'instances'], { env: { HANGAR_URL: api.url, HANGAR_API_KEY: 'env-key' } });
    expect(fromEnv.code).toBe(0);
    expect(api.requests[0]!.headers.authorization).toBe('Bearer env-key');

    const port = await closedPort();
    const flags = await runCli(['list', 'instances', '--url', api.url, '--api-key', 'flag-key'], {
      env: { HANGAR_URL: `http://127.0.0.1:${port}`, HANGAR_API_KEY: 'env-key' },
    });
    expect(flags.code).toBe(0);
    expect(api.requests[1]!.headers.authorization).toBe('Bearer flag-key');
  });

  it('GET requests carry no Idempotency-Key and no body', async () => {
    api = await startFakeApi(() => ok({ instances: [], count: 0, nextCursor: null }));
    await runCli(['--url', api.url, 'list', 'instances']);
    expect(api.requests[0]!.headers['idempotency-key']).toBeUndefined();
    expect(api.requests[0]!.headers['content-type']).toBeUndefined();
    expect(api.requests[0]!.rawBody).toBe('');
  });

  it('an unknown command is a usage error with exit 1', async () => {
    const result = await runCli(['lst', 'instances']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown command 'lst'");
  });
});

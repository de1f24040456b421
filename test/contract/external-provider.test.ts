import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, ValidationError } from '../../shared/domain/errors.ts';
import { isPrivateIp, parseEndpoint } from '../../shared/adapters/external/endpoint.ts';
import { ExternalProvider, probeEndpoint } from '../../shared/adapters/external/external-provider.ts';
import type { LaunchSpec } from '../../shared/ports/compute-provider.ts';
import { contractInstanceId, refOf, runComputeProviderContract } from './compute-provider.contract.ts';

function externalSpec(instanceId: string, endpoint: string | undefined, healthPath?: string): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-contract',
    name: 'contract',
    instanceType: 'external',
    region: 'external',
    resources: { cpu: 1, memory: 1 },
    tags: { suite: 'contract' },
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(healthPath !== undefined ? { healthPath } : {}),
  };
}

interface HttpEndpoint {
  server: HttpServer;
  port: number;
  /** Requests seen, by path. */
  hits: string[];
  close: () => Promise<void>;
}

/** A real HTTP endpoint on 127.0.0.1: 200 on / and /health, 503 on /down, 302 on /moved; /hang never answers. */
async function startHttpEndpoint(): Promise<HttpEndpoint> {
  const hits: string[] = [];
  const server = createHttpServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/hang') return; // accepted, never answered
    if (req.url === '/down') {
      res.writeHead(503).end('maintenance');
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: 'http://192.0.2.1/elsewhere' }).end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP-only endpoint (no HTTP): accepts and closes connections. */
async function startTcpEndpoint(): Promise<{ server: TcpServer; port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

runComputeProviderContract(
  'EXTERNAL (HTTP URL)',
  async () => {
    const endpoint = await startHttpEndpoint();
    const provider = new ExternalProvider({ probeTimeoutMs: 2000 });
    return {
      provider,
      spec: (instanceId) => externalSpec(instanceId, `http://127.0.0.1:${endpoint.port}/health`),
      cleanup: endpoint.close,
    };
  },
  { lifecycle: false },
);

runComputeProviderContract(
  'EXTERNAL (host:port over TCP, persisted)',
  async () => {
    const endpoint = await startTcpEndpoint();
    const dir = await mkdtemp(join(tmpdir(), 'hangar-external-contract-'));
    const provider = new ExternalProvider({ stateFile: join(dir, 'external.json'), probeTimeoutMs: 2000 });
    return {
      provider,
      spec: (instanceId) => externalSpec(instanceId, `127.0.0.1:${endpoint.port}`),
      cleanup: async () => {
        await endpoint.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { lifecycle: false },
);

describe('ExternalProvider', () => {
  let http: HttpEndpoint;
  let tcp: Awaited<ReturnType<typeof startTcpEndpoint>>;
  let dir: string;
  let provider: ExternalProvider;

  beforeAll(async () => {
    http = await startHttpEndpoint();
    tcp = await startTcpEndpoint();
    dir = await mkdtemp(join(tmpdir(), 'hangar-external-provider-'));
    provider = new ExternalProvider({ stateFile: join(dir, 'state', 'external.json'), probeTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await http.close();
    await tcp.close();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (path = '/') => `http://127.0.0.1:${http.port}${path}`;

  async function register(endpoint: string, healthPath?: string, on: ExternalProvider = provider) {
    const spec = externalSpec(contractInstanceId('ext'), endpoint, healthPath);
    const machine = await on.launch(spec);
    return { spec, machine, ref: refOf(machine, spec) };
  }

  it('registers an HTTP endpoint: running, with its address, port and health URL', async () => {
    const before = http.hits.length;
    const { machine, spec } = await register(url('/api'), '/health');

    expect(machine).toMatchObject({
      instanceId: spec.instanceId,
      state: 'running',
      privateIp: '127.0.0.1',
      port: http.port,
      details: { endpoint: url('/api'), healthUrl: url('/health'), check: 'http' },
    });
    expect(machine.publicIp).toBeUndefined();
    expect(machine.providerInstanceId).toMatch(/^ext-[0-9a-f]{10}$/);
    expect(http.hits.slice(before)).toEqual(['/health']);
  });

  it('checks the URL itself when no health path is given, and accepts a redirect without following it', async () => {
    const { machine } = await register(url('/moved'));

    expect(machine.state).toBe('running');
    expect(machine.details).toMatchObject({ healthUrl: url('/moved'), statusCode: 302 });
  });

  it('registers a TCP-only endpoint given as host:port with a TCP connect', async () => {
    const before = tcp.connections();
    const { machine } = await register(`127.0.0.1:${tcp.port}`);

    expect(machine).toMatchObject({
      state: 'running',
      privateIp: '127.0.0.1',
      port: tcp.port,
      details: { endpoint: `127.0.0.1:${tcp.port}`, healthUrl: `tcp://127.0.0.1:${tcp.port}`, check: 'tcp' },
    });
    expect(tcp.connections()).toBeGreaterThan(before);
  });

  it('refuses an unreachable endpoint with the reason, as an invalid request, and registers nothing', async () => {
    const port = await closedPort();
    const spec = externalSpec(contractInstanceId('unreachable'), `127.0.0.1:${port}`);

    const launching = provider.launch(spec);

    await expect(launching).rejects.toBeInstanceOf(ProviderError);
    await expect(launching).rejects.toMatchObject({ kind: 'invalid-request', retryable: false });
    await expect(launching).rejects.toThrow(`Cannot reach 127.0.0.1:${port}: connection refused (ECONNREFUSED)`);
    expect((await provider.listOwned()).some((machine) => machine.instanceId === spec.instanceId)).toBe(false);
  });

  it('refuses an HTTP endpoint whose health check answers an error status', async () => {
    const spec = externalSpec(contractInstanceId('unhealthy'), url(), '/down');

    await expect(provider.launch(spec)).rejects.toThrow(`Cannot reach ${url()}: GET ${url('/down')} answered 503 Service Unavailable`);
  });

  it('gives up on an endpoint that does not answer within the probe timeout', async () => {
    const impatient = new ExternalProvider({ probeTimeoutMs: 200 });
    const started = Date.now();

    const launching = impatient.launch(externalSpec(contractInstanceId('hang'), url('/hang')));

    await expect(launching).rejects.toThrow(`Cannot reach ${url('/hang')}: no answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a missing or unusable endpoint with a ValidationError before contacting anything', () => {
    const check = (endpoint: string | undefined, healthPath?: string) => () =>
      provider.checkLaunchSpec(externalSpec('vps-x-abc123', endpoint, healthPath));

    expect(check(undefined)).toThrow(ValidationError);
    expect(check(undefined)).toThrow('config.endpoint is required for EXTERNAL instances: a URL or host:port');
    expect(check('  ')).toThrow('config.endpoint is required for EXTERNAL instances: a URL or host:port');
    expect(check('not an endpoint')).toThrow(ValidationError);
    expect(check('example.com')).toThrow("config.endpoint 'example.com' is not a valid URL or host:port");
    expect(check('example.com:70000')).toThrow('a port is 1-65535');
    expect(check('ftp://example.com/file')).toThrow('only http and https URLs (or host:port) are supported');
    expect(check('http://admin:s3cret@example.com/')).toThrow('must not contain credentials');
    expect(check('http://admin:s3cret@example.com/')).not.toThrow('s3cret');
    expect(check('http://example.com', 'health')).toThrow('config.healthPath');
    expect(check('http://example.com', '//evil.example/health')).toThrow('config.healthPath');
    expect(check('db.example.com:5432')).not.toThrow();
    expect(check('[::1]:8080')).not.toThrow();
    expect(check('https://api.example.com/v1/health?probe=1', '/ready')).not.toThrow();
  });

  it('launch refuses a spec without an endpoint with the same ValidationError', async () => {
    const launching = provider.launch(externalSpec(contractInstanceId('no-endpoint'), undefined));

    await expect(launching).rejects.toBeInstanceOf(ValidationError);
    await expect(launching).rejects.toMatchObject({ details: [{ path: 'config.endpoint' }] });
  });

  it('refuses start, stop and reboot: Hangar does not manage the endpoint', async () => {
    const endpoint = url('/health');
    const { ref } = await register(endpoint);

    for (const [action, call] of [
      ['start', () => provider.start(ref)],
      ['stop', () => provider.stop(ref)],
      ['stop', () => provider.stop(ref, { force: true })],
      ['reboot', () => provider.reboot(ref)],
    ] as const) {
      const refused = call();
      await expect(refused).rejects.toBeInstanceOf(ProviderError);
      await expect(refused).rejects.toMatchObject({ kind: 'invalid-request' });
      await expect(refused).rejects.toThrow(`EXTERNAL endpoints are not managed by Hangar: cannot ${action} ${endpoint}`);
    }
    expect((await provider.describe(ref))?.state).toBe('running');
  });

  it('terminate only forgets the registration: the endpoint keeps answering and is not contacted', async () => {
    const { ref } = await register(url('/health'));
    const before = http.hits.length;

    await provider.terminate(ref);
    await provider.terminate(ref);
    const hitsDuringTerminate = http.hits.length - before;
    const answer = await fetch(url('/health'));

    expect(hitsDuringTerminate).toBe(0);
    expect(answer.status).toBe(200);
    expect(await provider.describe(ref)).toBeNull();
    expect((await provider.listOwned()).some((machine) => machine.providerInstanceId === ref.providerInstanceId)).toBe(false);
  });

  it('keeps registrations in the state file across a new provider, written atomically', async () => {
    const stateFile = join(dir, 'restart', 'external.json');
    const first = new ExternalProvider({ stateFile, probeTimeoutMs: 1000 });
    const { ref, spec } = await register(`127.0.0.1:${tcp.port}`, undefined, first);

    const second = new ExternalProvider({ stateFile, probeTimeoutMs: 1000 });
    const described = await second.describe(ref);
    const owned = await second.listOwned();
    const again = await second.launch(spec);
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { registrations: Array<{ instanceId: string; endpoint: string }> };

    expect(described).toMatchObject({ providerInstanceId: ref.providerInstanceId, instanceId: spec.instanceId, state: 'running' });
    expect(owned.map((machine) => machine.instanceId)).toEqual([spec.instanceId]);
    expect(again.providerInstanceId).toBe(ref.providerInstanceId);
    expect(saved.registrations).toEqual([expect.objectContaining({ instanceId: spec.instanceId, endpoint: `127.0.0.1:${tcp.port}` })]);
    expect(await readdir(join(dir, 'restart'))).toEqual(['external.json']); // no temporary files left

    await second.terminate(ref);
    expect(await first.describe(ref)).toBeNull();
  });

  it('registers once when the same instance is launched concurrently, and refuses another endpoint for it', async () => {
    const spec = externalSpec(contractInstanceId('concurrent'), url('/health'));

    const machines = await Promise.all([provider.launch(spec), provider.launch(spec), provider.launch(spec)]);
    const owned = await provider.listOwned();

    expect(new Set(machines.map((machine) => machine.providerInstanceId)).size).toBe(1);
    expect(owned.filter((machine) => machine.instanceId === spec.instanceId)).toHaveLength(1);
    await expect(provider.launch({ ...spec, endpoint: `127.0.0.1:${tcp.port}` })).rejects.toThrow(
      `${spec.instanceId} is already registered for ${url('/health')}`,
    );
    await provider.terminate(refOf(machines[0]!, spec));
  });

  it('describes a registered endpoint as error, with the reason, once it goes down', async () => {
    const doomed = await startHttpEndpoint();
    const endpoint = `http://127.0.0.1:${doomed.port}/health`;
    const { ref } = await register(endpoint);
    const up = await provider.describe(ref);

    await doomed.close();
    const down = await provider.describe(ref);
    const owned = await provider.listOwned();

    expect(up?.state).toBe('running');
    expect(down).toMatchObject({ providerInstanceId: ref.providerInstanceId, state: 'error' });
    expect(down?.reason).toBe(`Cannot reach ${endpoint}: connection refused (ECONNREFUSED)`);
    expect(owned.some((machine) => machine.providerInstanceId === ref.providerInstanceId)).toBe(true);
    await provider.terminate(ref);
  });

  it('describes a TCP endpoint as error once it stops accepting connections', async () => {
    const doomed = await startTcpEndpoint();
    const { ref } = await register(`127.0.0.1:${doomed.port}`);

    await doomed.close();
    const down = await provider.describe(ref);

    expect(down?.state).toBe('error');
    expect(down?.reason).toBe(`Cannot reach 127.0.0.1:${doomed.port}: connection refused (ECONNREFUSED)`);
    await provider.terminate(ref);
  });

  it('has no account to test and no catalog', async () => {
    await expect(provider.testConnection()).resolves.toBeUndefined();
    expect(await provider.listCatalog()).toEqual([]);
    expect(provider.name).toBe('EXTERNAL');
  });

  it('uses the injected fetch for HTTP checks', async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(null, { status: 204 });
    };
    const offline = new ExternalProvider({ fetch: fakeFetch });

    const { machine } = await register('https://203.0.113.10/status', undefined, offline);

    expect(seen).toEqual(['https://203.0.113.10/status']);
    expect(machine).toMatchObject({ state: 'running', publicIp: '203.0.113.10', port: 443 });
    expect(machine.privateIp).toBeUndefined();
  });
});

describe('probeEndpoint', () => {
  it('reports reachability over HTTP and TCP, and why not', async () => {
    const http = await startHttpEndpoint();
    const tcp = await startTcpEndpoint();
    const port = await closedPort();
    try {
      const [ok, bad, tcpOk, refused] = await Promise.all([
        probeEndpoint(`http://127.0.0.1:${http.port}`, '/health', 1000),
        probeEndpoint(`http://127.0.0.1:${http.port}`, '/down', 1000),
        probeEndpoint(`127.0.0.1:${tcp.port}`, undefined, 1000),
        probeEndpoint(`127.0.0.1:${port}`, undefined, 1000),
      ]);

      expect(ok).toMatchObject({ reachable: true, check: 'http', statusCode: 200, target: `http://127.0.0.1:${http.port}/health` });
      expect(ok.reason).toBeUndefined();
      expect(bad).toMatchObject({ reachable: false, statusCode: 503 });
      expect(tcpOk).toMatchObject({ reachable: true, check: 'tcp', target: `tcp://127.0.0.1:${tcp.port}` });
      expect(refused).toMatchObject({ reachable: false, reason: 'connection refused (ECONNREFUSED)' });
      for (const result of [ok, bad, tcpOk, refused]) {
        expect(result.latencyMs).toBeGreaterThanOrEqual(0);
        expect(Number.isNaN(Date.parse(result.checkedAt))).toBe(false);
      }
    } finally {
      await http.close();
      await tcp.close();
    }
  });

  it('checks host:port over HTTP when a health path is given', async () => {
    const http = await startHttpEndpoint();
    try {
      const result = await probeEndpoint(`127.0.0.1:${http.port}`, '/health', 1000);

      expect(result).toMatchObject({ reachable: true, check: 'http', target: `http://127.0.0.1:${http.port}/health` });
      expect(http.hits).toEqual(['/health']);
    } finally {
      await http.close();
    }
  });

  it('rejects an endpoint it cannot parse', async () => {
    await expect(probeEndpoint('nonsense', undefined, 100)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('EXTERNAL endpoint parsing', () => {
  it('parses URLs, host:port and IPv6, and classifies addresses', () => {
    expect(parseEndpoint('https://[2001:db8::1]:8443/x')).toMatchObject({ host: '2001:db8::1', ip: '2001:db8::1', port: 8443, check: 'http' });
    expect(parseEndpoint('[::1]:8080')).toMatchObject({ host: '::1', port: 8080, check: 'tcp', healthUrl: 'tcp://[::1]:8080' });
    expect(parseEndpoint('db.internal:5432', '/healthz')).toMatchObject({ check: 'http', healthUrl: 'http://db.internal:5432/healthz' });
    expect(parseEndpoint('http://example.com/app#frag')).toMatchObject({ port: 80, healthUrl: 'http://example.com/app' });
    expect(parseEndpoint('db.internal:5432').ip).toBeUndefined();

    for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '::1', 'fd12:3456::1', 'fe80::1', '100.64.0.1']) {
      expect(isPrivateIp(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '203.0.113.10', '2001:db8::1']) {
      expect(isPrivateIp(ip), ip).toBe(false);
    }
  });
});


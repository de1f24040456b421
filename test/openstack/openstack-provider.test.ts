import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../shared/adapters/openstack/http.ts';
import { authRequestBody, KeystoneSession } from '../../shared/adapters/openstack/keystone.ts';
import { COMPUTE_HEADERS } from '../../shared/adapters/openstack/nova.ts';
import { OpenStackProvider, type OpenStackProviderOptions } from '../../shared/adapters/openstack/openstack-provider.ts';
import { collectPages } from '../../shared/adapters/openstack/pages.ts';
import type { LaunchSpec, Machine, MachineRef, MachineState } from '../../shared/ports/compute-provider.ts';
import { ManualClock } from '../support/manual-clock.ts';
import {
  expectStatus,
  glance,
  login,
  neutron,
  novaServer,
  portIps,
  revokeToken,
  tokenValid,
  type Session,
} from '../../scripts/openstack/openstack-api.ts';
import { openStackHome } from '../../scripts/openstack/prepare.ts';
import { freePort, waitFor } from '../support/local-runtime.ts';
import { contractInstanceId, providerRejection, refOf, runComputeProviderContract, waitForState } from '../contract/compute-provider.contract.ts';
import { loadFixtures } from './fixtures.ts';

/**
 * The OPENSTACK adapter against a real OpenStack (../shared/openstack/up.sh): the shared
 * ComputeProvider contract, then what only a real cloud can show — Keystone's tokens and
 * revocation, Nova's microversion and state sequences, Neutron's ports, each service's
 * pagination links and error bodies.
 */
const fixtures = loadFixtures();
const REAL = { stateTimeoutMs: 120_000, pollMs: 500 };

function realSpec(instanceId: string, overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-real-cloud',
    name: 'contract',
    instanceType: fixtures.flavor,
    region: fixtures.region,
    image: fixtures.image.name,
    networks: [fixtures.network.name],
    keyPair: fixtures.keyPair,
    securityGroups: ['default'],
    resources: { cpu: 1, memory: 0.5 },
    tags: { suite: 'real-cloud' },
    ...overrides,
  };
}

runComputeProviderContract(
  'OPENSTACK against a real cloud',
  async () => ({
    provider: new OpenStackProvider({ region: fixtures.region, credentials: fixtures.user }),
    spec: (instanceId) => realSpec(instanceId),
    cleanup: async () => undefined,
  }),
  REAL,
);

interface Exchange {
  method: string;
  url: string;
  /** The Connection header the adapter sent. */
  connection: string | null;
  token?: string;
  status: number;
  headers: Headers;
  json?: unknown;
}

/** A fetch that records every exchange the adapter makes (bodies of Keystone answers too). */
function recordingFetch(): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const headers = new Headers(init?.headers);
    const url = String(input);
    const exchange: Exchange = {
      method: init?.method ?? 'GET',
      url,
      connection: headers.get('connection'),
      status: response.status,
      headers: response.headers,
      ...(headers.get('x-auth-token') ? { token: headers.get('x-auth-token') ?? '' } : {}),
    };
    if (url.endsWith('/auth/tokens')) exchange.json = await response.clone().json().catch(() => undefined);
    exchanges.push(exchange);
    return response;
  };
  return { fetch: recording, exchanges };
}

/**
 * Another Keystone process on a free port, from the cloud's own uwsgi configuration minus the
 * `add-header = Connection: close` line up.sh adds: uwsgi as many clouds run it.
 */
async function startBareUwsgiKeystone(): Promise<{ url: string; requests: () => number; stop: () => void }> {
  const port = await freePort();
  const ini = (await readFile(join(openStackHome(), 'etc', 'keystone-uwsgi.ini'), 'utf8'))
    .split('\n')
    .filter((line) => !/^add-header\s*=\s*Connection/i.test(line))
    .map((line) => (line.startsWith('http-socket') ? `http-socket = 127.0.0.1:${port}` : line.startsWith('processes') ? 'processes = 1' : line))
    .join('\n');
  const dir = await mkdtemp(join(tmpdir(), 'hangar-uwsgi-'));
  await writeFile(join(dir, 'keystone.ini'), ini);
  let log = '';
  const child = spawn('uwsgi', ['--ini', join(dir, 'keystone.ini')], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor(
    `uwsgi Keystone on ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`uwsgi exited: ${log.slice(-2000)}`);
      const answer = await fetch(`${url}/v3`, { headers: { Connection: 'close' } }).then((r) => r.status, () => 0);
      return answer === 200 ? true : undefined;
    },
    60_000,
  ).catch((error: unknown) => {
    stop();
    throw error;
  });
  return { url, requests: () => (log.match(/POST \/v3\/auth\/tokens/g) ?? []).length, stop };
}

describe('OpenStackProvider against a real cloud', () => {
  let admin: Session;
  const launched: Array<{ provider: OpenStackProvider; ref: MachineRef }> = [];

  beforeAll(async () => {
    admin = await login(fixtures.admin, fixtures.region);
  });

  afterAll(async () => {
    await Promise.allSettled(launched.map(({ provider, ref }) => provider.terminate(ref)));
  });

  function providerFor(options: Partial<OpenStackProviderOptions> = {}): OpenStackProvider {
    return new OpenStackProvider({ region: fixtures.region, credentials: fixtures.user, ...options });
  }

  async function launchRunning(provider: OpenStackProvider, label: string, overrides: Partial<LaunchSpec> = {}) {
    const spec = realSpec(contractInstanceId(label), { name: `real-${label}`, ...overrides });
    const ref = refOf(await provider.launch(spec), spec);
    launched.push({ provider, ref });
    const machine = await waitForState(provider, ref, ['running'], REAL);
    return { ref, spec, machine };
  }

  /** Describe every 100 ms until `until`, returning the distinct states seen in order. */
  async function statesUntil(provider: OpenStackProvider, ref: MachineRef, until: MachineState): Promise<MachineState[]> {
    const seen: MachineState[] = [];
    const deadline = Date.now() + REAL.stateTimeoutMs;
    for (;;) {
      const machine = await provider.describe(ref);
      const state = machine?.state;
      if (state && seen.at(-1) !== state) seen.push(state);
      if (state === until) return seen;
      if (Date.now() > deadline) throw new Error(`never ${until}; saw ${seen.join(' → ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  describe('Keystone', () => {
    it('refuses a wrong password as an auth error that says Keystone refused it, naming the URL', async () => {
      const provider = providerFor({ credentials: { ...fixtures.user, password: 'not-the-password' } });

      const error = await providerRejection(provider.testConnection());

      expect(error.kind).toBe('auth');
      expect(error.message).toBe(`Cannot connect to OpenStack at ${fixtures.authUrl}: 401 Unauthorized (Keystone refused the credentials)`);
    });

    it('authenticates with an application credential, scoped to its project without asking', async () => {
      const { id, secret } = fixtures.applicationCredential;
      const provider = providerFor({
        credentials: { authUrl: fixtures.authUrl, applicationCredentialId: id, applicationCredentialSecret: secret },
      });

      await provider.testConnection();
      const networks = await provider.listCatalog('networks');

      expect(networks.map((network) => network.name)).toContain(fixtures.network.name);
      const wrong = providerFor({
        credentials: { authUrl: fixtures.authUrl, applicationCredentialId: id, applicationCredentialSecret: 'wrong' },
      });
      expect((await providerRejection(wrong.testConnection())).message).toMatch(/401 Unauthorized \(Keystone refused the credentials\)/);
    });

    it('renews a token Keystone revoked when a service refuses it (401), once, and the call goes through', async () => {
      const { fetch, exchanges } = recordingFetch();
      const provider = providerFor({ fetch });
      await provider.listCatalog('keyPairs'); // Nova only: Neutron has not seen this token yet
      const first = exchanges.find((exchange) => exchange.token)?.token ?? '';

      await revokeToken(admin, first);
      // Services cache a validated token (keystonemiddleware, up to 5 minutes), so the revocation
      // bites where the token is new: Neutron asks Keystone, which refuses it.
      const networks = await provider.listCatalog('networks');

      expect(await tokenValid(admin, first)).toBe(false);
      expect(networks.map((network) => network.name)).toContain(fixtures.network.name);
      const refused = exchanges.filter((exchange) => exchange.token === first && exchange.status === 401);
      expect(refused.map((exchange) => new URL(exchange.url).port)).toEqual(['9696']);
      const issued = exchanges.filter((exchange) => exchange.url.endsWith('/auth/tokens') && exchange.status === 201);
      expect(issued).toHaveLength(2);
      expect(exchanges.at(-1)?.token).not.toBe(first);
      expect(exchanges.at(-1)?.status).toBe(200);
    });

    it("renews a token before Keystone's expires_at, read from its microsecond timestamp, without a 401", async () => {
      const clock = new ManualClock(new Date());
      const { fetch, exchanges } = recordingFetch();
      const provider = providerFor({ fetch, clock: () => clock.now() });
      await provider.listOwned();
      const issued = exchanges.find((exchange) => exchange.url.endsWith('/auth/tokens'));
      const expiresAt = (issued?.json as { token: { expires_at: string } }).token.expires_at;
      expect(expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      clock.set(new Date(Date.parse(expiresAt) - 60_000)); // inside the 2-minute renewal margin
      await provider.listOwned();

      expect(exchanges.filter((exchange) => exchange.url.endsWith('/auth/tokens'))).toHaveLength(2);
      expect(exchanges.some((exchange) => exchange.status === 401)).toBe(false);
    });
  });

  describe('Nova', () => {
    it('speaks compute microversion 2.47 and Nova answers in it', async () => {
      const { fetch, exchanges } = recordingFetch();
      const provider = providerFor({ fetch });

      await provider.listOwned();
      await provider.listCatalog('flavors');

      const compute = exchanges.filter((exchange) => exchange.url.includes(':8774/'));
      expect(compute.length).toBeGreaterThan(1);
      for (const exchange of compute) {
        expect(exchange.headers.get('openstack-api-version')).toBe(COMPUTE_HEADERS['OpenStack-API-Version']);
        expect(exchange.headers.get('x-openstack-nova-api-version')).toBe('2.47');
      }
    });

    it('launches by names: the private IP is the one Neutron gave the port, with no public IP', async () => {
      const provider = providerFor();

      const { ref, spec, machine } = await launchRunning(provider, 'names');

      const ips = await portIps(admin, ref.providerInstanceId);
      expect(ips).toHaveLength(1);
      expect(machine.privateIp).toBe(ips[0]);
      expect(machine.privateIp).toMatch(/^10\.42\.0\.\d+$/);
      expect(machine.publicIp).toBeUndefined();
      const server = await novaServer(admin, ref.providerInstanceId);
      expect(server?.metadata).toEqual({ suite: 'real-cloud', 'hangar:instance-id': spec.instanceId, 'hangar:client': 'client-real-cloud' });
      expect(server?.key_name).toBe(fixtures.keyPair);
      expect(server?.image.id).toBe(fixtures.image.id);
      expect(machine.details).toMatchObject({ status: 'ACTIVE', flavor: fixtures.flavor, keyName: fixtures.keyPair });
    });

    it("maps the states Nova goes through on stop, start and hard reboot, and surfaces Nova's own 409 message", async () => {
      const provider = providerFor();
      const { ref } = await launchRunning(provider, 'states');

      await provider.stop(ref);
      const stopping = await statesUntil(provider, ref, 'stopped');
      expect((await novaServer(admin, ref.providerInstanceId))?.status).toBe('SHUTOFF');
      const refused = await providerRejection(provider.reboot(ref)); // a soft reboot needs a running guest
      await provider.start(ref);
      const starting = await statesUntil(provider, ref, 'running');
      await provider.reboot(ref, { hard: true });
      const rebooting = await statesUntil(provider, ref, 'running');

      expect(stopping.every((state) => ['running', 'stopping', 'stopped'].includes(state))).toBe(true);
      expect(starting.every((state) => ['stopped', 'pending', 'running'].includes(state))).toBe(true);
      expect(rebooting.every((state) => ['running', 'pending'].includes(state))).toBe(true);
      expect(refused.kind).toBe('invalid-request');
      expect(refused.message).toMatch(/vm_state stopped/);
      expect(refused.message).toMatch(/OpenStack compute \(Nova\): 409/);
    });

    it('is done once Nova has deleted the server: terminate waits out task_state deleting, and the port is released', async () => {
      const provider = providerFor();
      const { ref } = await launchRunning(provider, 'gone');
      const since = new Date(Date.now() - 5000);

      await provider.terminate(ref);

      expect(await novaServer(admin, ref.providerInstanceId)).toBeNull();
      expect(await provider.describe(ref)).toBeNull();
      expect(await portIps(admin, ref.providerInstanceId)).toEqual([]);
      const changed = await provider.listChangedSince(since);
      expect(changed.find((machine) => machine.providerInstanceId === ref.providerInstanceId)?.state).toBe('terminated');
    });

    it('refuses an unknown flavor, image or network, naming what the cloud offers', async () => {
      const provider = providerFor();
      const attempt = (overrides: Partial<LaunchSpec>) => providerRejection(provider.launch(realSpec(contractInstanceId('unknown'), overrides)));

      const flavor = await attempt({ instanceType: 'm9.enormous' });
      const image = await attempt({ image: 'no-such-image' });
      const network = await attempt({ networks: ['no-such-net'] });

      expect(flavor.message).toMatch(/Flavor 'm9.enormous' does not exist in OpenStack region RegionOne; available: .*m1\.tiny/);
      expect(image.message).toMatch(new RegExp(`Image 'no-such-image' does not exist .*available: .*${fixtures.image.name}`));
      expect(network.message).toMatch(new RegExp(`Network 'no-such-net' does not exist .*available: .*${fixtures.network.name}`));
      for (const error of [flavor, image, network]) expect(error.kind).toBe('invalid-request');
    });
  });

  describe('catalog and pagination', () => {
    it('lists what the project can use: flavors, active images, its network and subnet, security groups, key pairs', async () => {
      const provider = providerFor();

      const [flavors, images, networks, subnets, groups, keyPairs] = await Promise.all([
        provider.listCatalog('flavors'),
        provider.listCatalog('images'),
        provider.listCatalog('networks'),
        provider.listCatalog('subnets'),
        provider.listCatalog('securityGroups'),
        provider.listCatalog('keyPairs'),
      ]);

      expect(flavors.find((flavor) => flavor.name === 'm1.tiny')).toMatchObject({
        attributes: { vcpus: 1, memoryMiB: 512, diskGB: 1, swapMiB: 0, extraSpecs: {} },
      });
      expect(images.find((image) => image.id === fixtures.image.id)?.name).toBe(fixtures.image.name);
      expect(networks.find((network) => network.id === fixtures.network.id)?.name).toBe(fixtures.network.name);
      expect(subnets.find((subnet) => subnet.id === fixtures.subnet.id)?.attributes).toMatchObject({ cidr: fixtures.subnet.cidr });
      expect(groups.map((group) => group.name)).toContain('default');
      expect(keyPairs.map((keyPair) => keyPair.name)).toContain(fixtures.keyPair);
    });

    it("follows each service's own next links: Nova flavors_links, Neutron networks_links, Glance next", async () => {
      const session = new KeystoneSession({
        credentials: fixtures.admin,
        region: fixtures.region,
        interface: 'public',
        transport: new HttpTransport({ fetch, clock: () => new Date() }),
        clock: () => new Date(),
      });
      // Enough of each for pages of one: a second network and a second image, removed after.
      const extraNetwork = expectStatus(await neutron(admin, 'POST', '/v2.0/networks', { network: { name: 'hangar-e2e-page' } }), 'network', 201)
        .body.network;
      const extraImage = expectStatus(
        await glance(admin, 'POST', '/v2/images', { name: 'hangar-e2e-page', disk_format: 'raw', container_format: 'bare' }),
        'image',
        201,
      ).body;
      try {
        const paged = async (service: 'compute' | 'network' | 'image', path: string, key: string, headers?: Record<string, string>) => {
          const all = await collectPages<{ id: string }>(session, service, { method: 'GET', path, ...(headers ? { headers } : {}) }, key);
          const pages = await collectPages<{ id: string }>(
            session,
            service,
            { method: 'GET', path, query: { limit: 1 }, ...(headers ? { headers } : {}) },
            key,
          );
          return { all: all.map((item) => item.id).sort(), pages: pages.map((item) => item.id).sort() };
        };

        const flavors = await paged('compute', '/flavors/detail', 'flavors', COMPUTE_HEADERS);
        const networks = await paged('network', '/v2.0/networks', 'networks');
        const images = await paged('image', '/v2/images', 'images');

        for (const { all, pages } of [flavors, networks, images]) {
          expect(all.length).toBeGreaterThanOrEqual(2);
          expect(pages).toEqual(all);
        }
      } finally {
        await neutron(admin, 'DELETE', `/v2.0/networks/${extraNetwork.id}`);
        await glance(admin, 'DELETE', `/v2/images/${extraImage.id}`);
      }
    });
  });

  describe('connections', () => {
    it('keeps working through bursts of parallel calls to every service, one connection per exchange', async () => {
      const { fetch, exchanges } = recordingFetch();
      const provider = providerFor({ fetch });
      const { ref } = await launchRunning(provider, 'burst');

      const results = await Promise.all(
        Array.from({ length: 6 }, () => [
          provider.describe(ref),
          provider.listCatalog('networks'),
          provider.listCatalog('images'),
          provider.listOwned(),
        ]).flat(),
      );

      expect(results.filter((result) => result === null)).toHaveLength(0);
      expect((results[0] as Machine).state).toBe('running');
      const ports = new Set(exchanges.map((exchange) => new URL(exchange.url).port));
      expect(ports).toEqual(new Set(['5000', '8774', '9292', '9696']));
      expect(exchanges.filter((exchange) => exchange.connection !== 'close')).toEqual([]);
    });

    it('works with a Keystone under uwsgi that does not announce Connection: close (which resets kept-alive connections)', async () => {
      const keystone = await startBareUwsgiKeystone();
      try {
        const credentials = { ...fixtures.user, authUrl: `${keystone.url}/v3` };
        const transport = new HttpTransport({ fetch, clock: () => new Date() });
        const failures: string[] = [];

        // Alternate a token and a version document, back to back on one origin: without a fresh
        // connection per exchange, about one in ten of these fails with ECONNRESET.
        for (let attempt = 0; attempt < 40; attempt += 1) {
          for (const request of [
            { method: 'POST' as const, url: `${keystone.url}/v3/auth/tokens`, body: authRequestBody(credentials) },
            { method: 'GET' as const, url: `${keystone.url}/v3` },
          ]) {
            await transport.send(request, 'Keystone').catch((error: Error) => failures.push(`${attempt} ${request.method}: ${error.message}`));
          }
        }
        await providerFor({ credentials }).testConnection();

        expect(failures).toEqual([]);
        expect(keystone.requests()).toBe(41);
      } finally {
        keystone.stop();
      }
    });
  });
});

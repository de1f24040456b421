import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import { ipsOf } from '../../shared/adapters/openstack/addresses.ts';
import { errorKindFor, openStackErrorMessage, retryAfterMs } from '../../shared/adapters/openstack/http.ts';
import { machineStateOf } from '../../shared/adapters/openstack/states.ts';
import {
  OpenStackProvider,
  toOpenStackCredentials,
  type OpenStackProviderOptions,
} from '../../shared/adapters/openstack/openstack-provider.ts';
import type { ComputeProvider, LaunchSpec, MachineRef } from '../../shared/ports/compute-provider.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { OpenStackDouble, type OpenStackDoubleOptions } from '../support/openstack-double.ts';
import { contractInstanceId, launchUntilRunning, providerRejection, refOf, runComputeProviderContract, waitForState } from './compute-provider.contract.ts';

const FAST = { stateTimeoutMs: 5000, pollMs: 10 };

function openStackSpec(instanceId: string, region: string, overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-contract',
    name: 'contract',
    instanceType: 'm1.small',
    region,
    image: 'cirros-0.6.2-x86_64-disk',
    networks: ['private'],
    keyPair: 'hangar-key',
    securityGroups: ['default'],
    resources: { cpu: 1, memory: 2 },
    tags: { suite: 'contract' },
    ...overrides,
  };
}

runComputeProviderContract(
  'OPENSTACK',
  async () => {
    const cloud = await OpenStackDouble.start({ buildReads: 2, transitionReads: 1 });
    const provider = new OpenStackProvider({ region: cloud.region, credentials: cloud.passwordCredentials() });
    return { provider, spec: (instanceId) => openStackSpec(instanceId, cloud.region), cleanup: () => cloud.close() };
  },
  FAST,
);

describe('OpenStackProvider', () => {
  const clouds: OpenStackDouble[] = [];

  afterEach(async () => {
    await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
  });

  async function setup(
    cloudOptions: OpenStackDoubleOptions = {},
    providerOptions: Partial<OpenStackProviderOptions> = {},
  ): Promise<{ cloud: OpenStackDouble; provider: OpenStackProvider }> {
    const cloud = await OpenStackDouble.start({ buildReads: 1, ...cloudOptions });
    clouds.push(cloud);
    const provider = new OpenStackProvider({
      region: cloud.region,
      credentials: cloud.passwordCredentials(),
      ...providerOptions,
    });
    return { cloud, provider };
  }

  const launchRunning = (provider: ComputeProvider, region: string, overrides: Partial<LaunchSpec> = {}) =>
    launchUntilRunning(provider, openStackSpec(contractInstanceId('os'), region, overrides), FAST);

  describe('Keystone', () => {
    it('authenticates with a password scoped to the project, as clouds.yaml names it', async () => {
      const { cloud, provider } = await setup();

      await provider.listOwned();

      const [auth] = cloud.requestsTo('identity', 'POST', '/v3/auth/tokens');
      expect(auth?.body).toEqual({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'hangar', password: 's3cret', domain: { name: 'Default' } } },
          },
          scope: { project: { name: 'hangar-project', domain: { name: 'Default' } } },
        },
      });
      expect(auth?.headers['x-auth-token']).toBeUndefined();
    });

    it('authenticates with an application credential and sends no scope', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({ region: cloud.region, credentials: cloud.applicationCredentials() });

      await provider.listOwned();

      const [auth] = cloud.requestsTo('identity', 'POST', '/v3/auth/tokens');
      expect(auth?.body).toEqual({
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: { id: 'appcred-hangar', secret: 'appcred-secret' },
          },
        },
      });
      expect(cloud.requestsTo('compute', 'GET', '/servers/detail').map((request) => request.status)).toEqual([200]);
    });

    it('takes stored credential fields in either form', async () => {
      const { cloud } = await setup();
      const stored: Record<string, string> = { ...cloud.passwordCredentials() };
      const provider = new OpenStackProvider({ region: cloud.region, credentials: toOpenStackCredentials(stored) });

      await provider.testConnection();

      expect(toOpenStackCredentials({ ...cloud.applicationCredentials() })).toEqual(cloud.applicationCredentials());
      expect(() => toOpenStackCredentials({ authUrl: cloud.authUrl, username: 'hangar' })).toThrow("lack 'password'");
    });

    it('reuses one token across calls and sends the compute microversion', async () => {
      const { cloud, provider } = await setup();

      await provider.listOwned();
      await provider.listOwned();
      await provider.listCatalog('networks');

      expect(cloud.requestsTo('identity', 'POST')).toHaveLength(1);
      const tokens = new Set(
        [...cloud.requestsTo('compute'), ...cloud.requestsTo('network')].map((request) => request.headers['x-auth-token']),
      );
      expect(tokens.size).toBe(1);
      for (const request of cloud.requestsTo('compute')) {
        expect(request.headers['openstack-api-version']).toBe('compute 2.47');
      }
    });

    it('renews the token shortly before it expires, without a 401', async () => {
      const clock = new ManualClock(new Date());
      const { cloud, provider } = await setup({ tokenLifetimeMs: 3_600_000 }, { clock: () => clock.now() });
      await provider.listOwned();

      clock.advance(3_600_000 - 60_000); // inside the renewal margin
      await provider.listOwned();

      expect(cloud.requestsTo('identity', 'POST')).toHaveLength(2);
      expect(cloud.requestsTo('compute').map((request) => request.status)).toEqual([200, 200]);
    });

    it('renews a token the cloud no longer accepts (401) and retries the request once', async () => {
      const { cloud, provider } = await setup({ tokenLifetimeMs: 3_600_000 });
      await provider.listOwned();
      cloud.clearRequests();

      cloud.advanceClock(2 * 3_600_000); // expired by the cloud's clock, not by ours
      const owned = await provider.listOwned();

      expect(owned).toEqual([]);
      expect(cloud.requests.map((request) => `${request.method} ${request.resource} ${request.status}`)).toEqual([
        'GET /servers/detail 401',
        'POST /v3/auth/tokens 201',
        'GET /servers/detail 200',
      ]);
      const [first, , retried] = cloud.requests;
      expect(retried?.headers['x-auth-token']).not.toBe(first?.headers['x-auth-token']);
    });

    it('renews a revoked token the same way', async () => {
      const { cloud, provider } = await setup();
      await provider.listOwned();
      cloud.revokeTokens();
      cloud.clearRequests();

      await provider.listOwned();

      expect(cloud.requests.map((request) => request.status)).toEqual([401, 201, 200]);
    });

    it('gives up with an auth error when the renewed token is refused too', async () => {
      const { cloud, provider } = await setup();
      await provider.listOwned();
      cloud.rejectAllTokens = true;
      cloud.clearRequests();

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('auth');
      expect(error.message).toMatch(/refused a freshly issued token: 401/);
      expect(cloud.requests.map((request) => request.status)).toEqual([401, 201, 401]);
    });

    it('chooses endpoints by region and interface from the catalog', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({
        region: 'RegionTwo',
        interface: 'internal',
        credentials: cloud.passwordCredentials(),
      });

      const { ref } = await launchRunning(provider, 'RegionTwo');
      await provider.listCatalog('images');

      const serviceRequests = cloud.requests.filter((request) => request.service !== 'identity');
      expect(new Set(serviceRequests.map((request) => `${request.region}/${request.interface}`))).toEqual(
        new Set(['RegionTwo/internal']),
      );
      expect(new Set(serviceRequests.map((request) => request.service))).toEqual(new Set(['compute', 'image', 'network']));
      expect(cloud.servers('RegionTwo').map((server) => server.id)).toEqual([ref.providerInstanceId]);
      expect(cloud.servers('RegionOne')).toEqual([]);
    });

    it('names the regions the catalog offers when the configured one is missing', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({ region: 'RegionNine', credentials: cloud.passwordCredentials() });

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toMatch(/no compute endpoint for region 'RegionNine' and interface 'public'/);
      expect(error.message).toContain('compute: RegionOne (public, internal, admin), RegionTwo (public, internal, admin)');
    });
  });

  describe('testConnection', () => {
    it('passes with working credentials', async () => {
      const { cloud, provider } = await setup();

      await provider.testConnection();

      expect(cloud.requestsTo('compute', 'GET', '/servers').map((request) => request.status)).toEqual([200]);
    });

    it('reports refused credentials as an auth error naming the URL', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({
        region: cloud.region,
        credentials: cloud.passwordCredentials({ password: 'wrong' }),
      });

      const error = await providerRejection(provider.testConnection());

      expect(error.kind).toBe('auth');
      expect(error.message).toBe(
        `Cannot connect to OpenStack at ${cloud.authUrl}: 401 Unauthorized (Keystone refused the credentials)`,
      );
    });

    it('reports a wrong application credential secret the same way', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({
        region: cloud.region,
        credentials: cloud.applicationCredentials({ applicationCredentialSecret: 'nope' }),
      });

      const error = await providerRejection(provider.testConnection());

      expect(error.kind).toBe('auth');
      expect(error.message).toBe(
        `Cannot connect to OpenStack at ${cloud.authUrl}: 401 Unauthorized (Keystone refused the credentials)`,
      );
    });

    it('reports an unreachable Keystone as transient, naming the URL', async () => {
      const authUrl = `http://127.0.0.1:${await closedPort()}/identity/v3`;
      const provider = new OpenStackProvider({
        region: 'RegionOne',
        credentials: { authUrl, applicationCredentialId: 'x', applicationCredentialSecret: 'y' },
      });

      const error = await providerRejection(provider.testConnection());

      expect(error.kind).toBe('transient');
      expect(error.message).toMatch(new RegExp(`^Cannot connect to OpenStack at ${escape(authUrl)}: .*ECONNREFUSED`));
    });

    it('reports a region the catalog lacks with the "Cannot connect" prefix', async () => {
      const { cloud } = await setup();
      const provider = new OpenStackProvider({ region: 'Nowhere', credentials: cloud.passwordCredentials() });

      const error = await providerRejection(provider.testConnection());

      expect(error.message).toMatch(new RegExp(`^Cannot connect to OpenStack at ${escape(cloud.authUrl)}: .*no compute endpoint`));
    });
  });

  describe('deployments sharing a project', () => {
    it('stamps its deployment in the server metadata and lists only the servers that carry it', async () => {
      const { cloud, provider: dev } = await setup({}, { deployment: 'hangar-dev' });
      const prod = new OpenStackProvider({ region: cloud.region, credentials: cloud.passwordCredentials(), deployment: 'hangar-prod' });
      const unscoped = new OpenStackProvider({ region: cloud.region, credentials: cloud.passwordCredentials() });

      const devBox = await launchRunning(dev, cloud.region);
      const prodBox = await launchRunning(prod, cloud.region);

      const created = cloud.requestsTo('compute', 'POST').find((request) => request.resource === '/servers');
      expect((created?.body as { server: { metadata: Record<string, string> } }).server.metadata['hangar:deployment']).toBe('hangar-dev');
      expect((await dev.listOwned()).map((m) => m.providerInstanceId)).toEqual([devBox.ref.providerInstanceId]);
      expect((await prod.listOwned()).map((m) => m.providerInstanceId)).toEqual([prodBox.ref.providerInstanceId]);
      expect((await unscoped.listOwned()).map((m) => m.providerInstanceId).sort()).toEqual([devBox.ref.providerInstanceId, prodBox.ref.providerInstanceId].sort());
    });
  });

  describe('launch', () => {
    it('resolves flavor, image and network names to ids and sends the whole create body', async () => {
      const { cloud, provider } = await setup();
      const spec = openStackSpec(contractInstanceId('names'), cloud.region, {
        name: 'web-server',
        instanceType: 'm1.small',
        image: 'ubuntu-24.04',
        networks: ['private', 'shared'],
        securityGroups: ['default', 'web'],
        userData: '#cloud-config\npackages: [nginx]\n',
        tags: { project: 'medical-analysis' },
      });

      const machine = await provider.launch(spec);

      const [create] = cloud.requestsTo('compute', 'POST', '/servers');
      const ubuntu = cloud.images.find((image) => image.name === 'ubuntu-24.04');
      const byName = (name: string) => cloud.networks.find((network) => network.name === name)?.id;
      expect(create?.body).toEqual({
        server: {
          name: 'web-server',
          flavorRef: '2',
          imageRef: ubuntu?.id,
          networks: [{ uuid: byName('private') }, { uuid: byName('shared') }],
          key_name: 'hangar-key',
          security_groups: [{ name: 'default' }, { name: 'web' }],
          user_data: Buffer.from(spec.userData ?? '').toString('base64'),
          config_drive: true,
          metadata: { project: 'medical-analysis', 'hangar:instance-id': spec.instanceId, 'hangar:client': 'client-contract' },
        },
      });
      expect(machine.providerInstanceId).toBe(cloud.servers()[0]?.id);
      expect(machine.instanceId).toBe(spec.instanceId);
      expect(machine.state).toBe('pending');
    });

    it('accepts ids as well as names', async () => {
      const { cloud, provider } = await setup();
      const image = cloud.images[0];
      const network = cloud.networks.find((candidate) => candidate.name === 'private');

      await provider.launch(
        openStackSpec(contractInstanceId('ids'), cloud.region, {
          instanceType: '3',
          image: image?.id ?? '',
          networks: [network?.id ?? ''],
          securityGroups: [],
          keyPair: undefined,
        }),
      );

      const body = cloud.requestsTo('compute', 'POST', '/servers')[0]?.body as { server: Record<string, unknown> };
      expect(body.server).toMatchObject({ flavorRef: '3', imageRef: image?.id, networks: [{ uuid: network?.id }] });
      expect(body.server).not.toHaveProperty('key_name');
      expect(body.server).not.toHaveProperty('security_groups');
      expect(body.server).not.toHaveProperty('user_data');
    });

    it('asks Nova to pick the network ("auto") when none is named', async () => {
      const { cloud, provider } = await setup();

      await provider.launch(openStackSpec(contractInstanceId('auto'), cloud.region, { networks: [] }));

      const body = cloud.requestsTo('compute', 'POST', '/servers')[0]?.body as { server: Record<string, unknown> };
      expect(body.server.networks).toBe('auto');
    });

    it('boots from a volume when a larger disk than the flavor offers is asked for', async () => {
      const { cloud, provider } = await setup();
      const image = cloud.images.find((candidate) => candidate.name === 'cirros-0.6.2-x86_64-disk');

      await provider.launch(openStackSpec(contractInstanceId('bfv'), cloud.region, { diskSizeGB: 100 }));

      const body = cloud.requestsTo('compute', 'POST', '/servers')[0]?.body as { server: Record<string, unknown> };
      expect(body.server).not.toHaveProperty('imageRef');
      expect(body.server.block_device_mapping_v2).toEqual([
        {
          boot_index: 0,
          uuid: image?.id,
          source_type: 'image',
          destination_type: 'volume',
          volume_size: 100,
          delete_on_termination: true,
        },
      ]);
    });

    it('refuses unknown flavors and inactive images with what is available', async () => {
      const { cloud, provider } = await setup();

      const flavor = await providerRejection(
        provider.launch(openStackSpec(contractInstanceId('flavor'), cloud.region, { instanceType: 'm9.huge' })),
      );
      const image = await providerRejection(provider.launch(openStackSpec(contractInstanceId('image'), cloud.region, { image: 'centos-7' })));
      const network = await providerRejection(
        provider.launch(openStackSpec(contractInstanceId('net'), cloud.region, { networks: ['nowhere'] })),
      );

      expect(flavor.kind).toBe('invalid-request');
      expect(flavor.message).toMatch(/^Flavor 'm9.huge' does not exist in OpenStack region RegionOne; available: .*m1\.small/);
      expect(image.kind).toBe('invalid-request');
      expect(image.message).toMatch(/Image 'centos-7' \(.*\) is deactivated, not active/);
      expect(network.message).toMatch(/^Network 'nowhere' does not exist in OpenStack region RegionOne; available: /);
      expect(network.message).toContain('private');
      expect(cloud.requestsTo('compute', 'POST', '/servers')).toHaveLength(0);
    });

    it('finds the server already launched for the instance by its metadata instead of creating another', async () => {
      const { cloud, provider } = await setup();
      const instanceId = contractInstanceId('again');
      cloud.putServer({ name: 'web', metadata: { 'hangar:instance-id': 'vps-someone-else-000000' } });
      const mine = cloud.putServer({ name: 'web', metadata: { 'hangar:instance-id': instanceId } });
      cloud.putServer({ name: 'web-2', metadata: { 'hangar:instance-id': instanceId } }); // name does not match exactly

      const machine = await provider.launch(openStackSpec(instanceId, cloud.region, { name: 'web' }));

      expect(machine.providerInstanceId).toBe(mine.id);
      expect(machine.state).toBe('running');
      expect(cloud.requestsTo('compute', 'POST', '/servers')).toHaveLength(0);
      expect(cloud.requestsTo('compute', 'GET', '/servers/detail')[0]?.query).toEqual({ name: '^web$' });
    });

    it('keeps the older server when a concurrent launch elsewhere created a twin', async () => {
      const cloud = await OpenStackDouble.start();
      clouds.push(cloud);
      const instanceId = contractInstanceId('twin');
      let twinId = '';
      // Another process creates its server for the same instance while ours is on the way.
      const racingFetch: typeof fetch = async (input, init) => {
        if (init?.method === 'POST' && String(input).endsWith('/compute/v2.1/servers') && !twinId) {
          twinId = cloud.putServer({
            name: 'contract',
            metadata: { 'hangar:instance-id': instanceId },
            created: cloud.now() - 5000,
          }).id;
        }
        return fetch(input, init);
      };
      const provider = new OpenStackProvider({ region: cloud.region, credentials: cloud.passwordCredentials(), fetch: racingFetch });

      const machine = await provider.launch(openStackSpec(instanceId, cloud.region));

      expect(machine.providerInstanceId).toBe(twinId);
      // Ours is deleted (or, as in Nova, still on its way out).
      const live = cloud.servers().filter((server) => !server.deleted && server.taskState !== 'deleting');
      expect(live.map((server) => server.id)).toEqual([twinId]);
      expect(cloud.requestsTo('compute', 'DELETE')).toHaveLength(1);
    });

    it('creates one server when the same instance is launched concurrently in one process', async () => {
      const { cloud, provider } = await setup();
      const spec = openStackSpec(contractInstanceId('concurrent'), cloud.region);

      const [first, second] = await Promise.all([provider.launch(spec), provider.launch(spec)]);

      expect(second.providerInstanceId).toBe(first.providerInstanceId);
      expect(cloud.requestsTo('compute', 'POST', '/servers')).toHaveLength(1);
    });

    it('refuses specs OpenStack cannot take before calling it', async () => {
      const { cloud, provider } = await setup();
      const spec = openStackSpec(contractInstanceId('check'), cloud.region);

      expect(() => provider.checkLaunchSpec({ ...spec, image: undefined })).toThrow(/needs an image/);
      expect(() => provider.checkLaunchSpec({ ...spec, tags: { note: 'x'.repeat(256) } })).toThrow(/does not fit OpenStack metadata/);
      expect(() => provider.checkLaunchSpec({ ...spec, userData: 'x'.repeat(60_000) })).toThrow(/userData is too large/);
      expect(() => provider.checkLaunchSpec({ ...spec, region: 'RegionTwo' })).toThrow(/region RegionOne, not RegionTwo/);
      expect(cloud.requests).toHaveLength(0);
    });

    describe('preflight', () => {
      it('refuses a disk larger than the flavor on a cloud without a volume service, naming flavors whose disk holds it', async () => {
        const { cloud, provider } = await setup({ volumeService: false });
        const spec = openStackSpec(contractInstanceId('pf'), cloud.region, { instanceType: 'm1.small', diskSizeGB: 60 });

        const refused = await provider.preflight(spec).then(
          () => undefined,
          (error: unknown) => error,
        );

        expect(refused).toBeInstanceOf(ValidationError);
        const error = refused as ValidationError;
        expect(error.status).toBe(400);
        expect(error.code).toBe('DISK_EXCEEDS_FLAVOR');
        expect(error.message).toMatch(/has no volume service/);
        expect(error.message).toMatch(/m1\.small, which has a 20 GB disk/);
        // m1.large (80 GB) is the smallest disk that holds 60 GB and is at least m1.small's size.
        expect(error.message).toMatch(/e\.g\. m1\.large \(80 GB/);
        expect(error.message).toMatch(/or ask for at most 20 GB/);
        expect(error.details).toEqual([expect.objectContaining({ path: 'config.diskSizeGB' })]);
        expect(cloud.requestsTo('compute', 'POST')).toHaveLength(0);
      });

      it('says so when no flavor has a disk that large', async () => {
        const { cloud, provider } = await setup({ volumeService: false });
        const spec = openStackSpec(contractInstanceId('pf'), cloud.region, { diskSizeGB: 5000 });

        await expect(provider.preflight(spec)).rejects.toThrow(/no flavor here has a disk of 5000 GB \(the largest is \d+ GB\)/);
      });

      it('lets the launch boot from a volume when the catalog lists one, and passes a disk the flavor holds', async () => {
        const withVolumes = await setup();
        await expect(
          withVolumes.provider.preflight(openStackSpec(contractInstanceId('pf'), withVolumes.cloud.region, { diskSizeGB: 100 })),
        ).resolves.toBeUndefined();

        const without = await setup({ volumeService: false });
        const spec = openStackSpec(contractInstanceId('pf'), without.cloud.region, { instanceType: 'm1.small' });
        await expect(without.provider.preflight({ ...spec, diskSizeGB: 20 })).resolves.toBeUndefined();
        await expect(without.provider.preflight(spec)).resolves.toBeUndefined();
      });

      it('leaves the decision to the launch when the cloud cannot be read', async () => {
        const { cloud, provider } = await setup({ volumeService: false });
        cloud.failNext({ status: 503, service: 'compute' });

        await expect(
          provider.preflight(openStackSpec(contractInstanceId('pf'), cloud.region, { diskSizeGB: 100 })),
        ).resolves.toBeUndefined();
      });
    });
  });

  describe('describe', () => {
    it('reports addresses: fixed IPv4 as private, floating IPv4 as public', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);

      const machine = await provider.describe(ref);

      expect(machine?.privateIp).toMatch(/^10\.0\.0\.\d+$/);
      expect(machine?.publicIp).toMatch(/^172\.24\.4\.\d+$/);
      expect(machine?.details).toMatchObject({ status: 'ACTIVE', flavor: 'm1.small', keyName: 'hangar-key' });
    });

    it('maps ERROR with the fault message as the reason', async () => {
      const { cloud, provider } = await setup();
      cloud.failNextBuild('No valid host was found. There are not enough hosts available.');
      const spec = openStackSpec(contractInstanceId('fault'), cloud.region);
      const ref = refOf(await provider.launch(spec), spec);

      const machine = await waitForState(provider, ref, ['error', 'running'], FAST);

      expect(machine.state).toBe('error');
      expect(machine.reason).toBe('No valid host was found. There are not enough hosts available.');
    });

    it('maps a server that fails later to error with its fault', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);

      cloud.failServer(ref.providerInstanceId, 'Compute host node-7 could not be found.');

      expect(await provider.describe(ref)).toMatchObject({ state: 'error', reason: 'Compute host node-7 could not be found.' });
    });

    it('shows a stopping server as stopping, then stopped', async () => {
      const { cloud, provider } = await setup({ transitionReads: 1 });
      const { ref } = await launchRunning(provider, cloud.region);

      await provider.stop(ref, { force: true });

      expect((await provider.describe(ref))?.state).toBe('stopping');
      expect((await provider.describe(ref))?.state).toBe('stopped');
      expect(cloud.requestsTo('compute', 'POST', /\/action$/).map((request) => request.body)).toEqual([{ 'os-stop': null }]);
    });
  });

  describe('actions', () => {
    it("surfaces Nova's conflictingRequest message when the server is in the wrong state", async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);
      await provider.stop(ref);
      await waitForState(provider, ref, ['stopped'], FAST);

      const error = await providerRejection(provider.reboot(ref));

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toContain(`Cannot 'reboot' instance ${ref.providerInstanceId} while it is in vm_state stopped`);
      expect(cloud.requestsTo('compute', 'POST', /\/action$/).at(-1)?.status).toBe(409);
    });

    it('surfaces the conflict when starting a server that is still building', async () => {
      const { cloud, provider } = await setup({ buildReads: 100 });
      const spec = openStackSpec(contractInstanceId('building'), cloud.region);
      const ref = refOf(await provider.launch(spec), spec);

      const error = await providerRejection(provider.start(ref));

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toContain(
        `Instance ${ref.providerInstanceId} in vm_state building. Cannot start while the instance is in this state.`,
      );
    });

    it('treats starting a running server as done (409 absorbed after checking)', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);
      cloud.clearRequests();

      await provider.start(ref);

      expect(cloud.requests.map((request) => `${request.method} ${request.resource} ${request.status}`)).toEqual([
        `POST /servers/${ref.providerInstanceId}/action 409`,
        `GET /servers/${ref.providerInstanceId} 200`,
      ]);
    });

    it('reboots hard with type HARD', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);

      await provider.reboot(ref, { hard: true });

      expect(cloud.requestsTo('compute', 'POST', /\/action$/).map((request) => request.body)).toEqual([
        { reboot: { type: 'HARD' } },
      ]);
      expect((await provider.describe(ref))?.state).toBe('pending');
      expect((await provider.describe(ref))?.state).toBe('running');
    });

    it('answers not-found for an action on a server that is gone', async () => {
      const { cloud, provider } = await setup();
      const ref: MachineRef = {
        instanceId: 'vps-gone-000000',
        providerInstanceId: 'f0000000-0000-4000-8000-000000000000',
        region: cloud.region,
      };

      const error = await providerRejection(provider.start(ref));

      expect(error.kind).toBe('not-found');
      expect(error.message).toContain('does not exist');
    });

    it('refuses to delete a server marked for another instance', async () => {
      const { cloud, provider } = await setup();
      const other = cloud.putServer({ name: 'theirs', metadata: { 'hangar:instance-id': 'vps-theirs-aaaaaa' } });

      const error = await providerRejection(
        provider.terminate({ instanceId: 'vps-mine-bbbbbb', providerInstanceId: other.id, region: cloud.region }),
      );

      expect(error.kind).toBe('fatal');
      expect(error.message).toMatch(/refusing to delete it/);
      expect(cloud.server(other.id)?.deleted).toBe(false);
    });

    it('waits until Nova has deleted the server before terminate returns, as a real Nova deletes in the background', async () => {
      const { cloud, provider } = await setup({ deleteReads: 3 }, { sleep: async () => undefined });
      const { ref } = await launchRunning(provider, cloud.region);
      cloud.clearRequests();

      await provider.terminate(ref);

      expect(cloud.server(ref.providerInstanceId)?.deleted).toBe(true);
      expect(await provider.describe(ref)).toBeNull();
      const calls = cloud.requestsTo('compute').map((request) => `${request.method} ${request.status}`);
      expect(calls.filter((call) => call === 'DELETE 204')).toHaveLength(1);
      expect(calls.at(-2)).toBe('GET 404'); // the wait ended on Nova's 404, before the describe above
    });

    it('counts a server Nova shows as DELETED, a moment before its 404, as gone', async () => {
      const { cloud, provider } = await setup({ deleteReads: 1, deletedReads: 2 }, { sleep: async () => undefined });
      const { ref } = await launchRunning(provider, cloud.region);
      cloud.clearRequests();

      await provider.terminate(ref);
      const described = await provider.describe(ref);

      expect(described).toBeNull();
      const reads = cloud.requestsTo('compute', 'GET', `/servers/${ref.providerInstanceId}`).map((request) => request.status);
      expect(reads.slice(-2)).toEqual([200, 200]); // terminate's last look and describe: DELETED, not yet 404
      expect(cloud.server(ref.providerInstanceId)?.status).toBe('DELETED');
    });

    it('describes a server Nova is still deleting as stopping, never terminated, and does not delete it twice', async () => {
      const { cloud, provider } = await setup({ deleteReads: 100 }, { deleteWaitMs: 0 });
      const { ref } = await launchRunning(provider, cloud.region);

      await provider.terminate(ref);
      const deleting = await provider.describe(ref);
      await provider.terminate(ref);

      expect(deleting?.state).toBe('stopping');
      expect(deleting?.details?.taskState).toBe('deleting');
      expect(cloud.requestsTo('compute', 'DELETE')).toHaveLength(1);
    });

    it('reports a delete Nova gave up on (ERROR with a fault) as transient, so the workflow deletes again', async () => {
      const { cloud, provider } = await setup({ deleteReads: 1 }, { sleep: async () => undefined });
      const { ref } = await launchRunning(provider, cloud.region);
      cloud.failNextDelete('Failed to terminate instance: connection to the hypervisor lost');

      const error = await providerRejection(provider.terminate(ref));

      expect(error.kind).toBe('transient');
      expect(error.message).toMatch(/could not delete server .*hypervisor lost/);
      await provider.terminate(ref); // Nova accepts a delete from ERROR
      expect(await provider.describe(ref)).toBeNull();
    });
  });

  describe('connections', () => {
    it('asks for one connection per exchange, so a uwsgi-served Keystone or Nova never cuts one off', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);

      await provider.stop(ref);
      await waitForState(provider, ref, ['stopped'], FAST);
      await provider.start(ref);
      await provider.listOwned();

      expect(cloud.requests.length).toBeGreaterThan(8);
      expect(cloud.requests.filter((request) => request.status === 0)).toEqual([]);
      for (const request of cloud.requests) expect(request.headers.connection).toBe('close');
    });

    it('is a double that cuts off a kept-alive connection to Nova, as uwsgi does', async () => {
      const { cloud, provider } = await setup();
      await provider.listOwned();
      const token = cloud.requestsTo('compute')[0]?.headers['x-auth-token'] ?? '';
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = () =>
        new Promise<number>((resolve, reject) => {
          const request = httpRequest(`${cloud.endpointUrl('compute')}/servers`, { agent, headers: { 'X-Auth-Token': token } }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          request.on('error', reject);
          request.end();
        });

      expect(await get()).toBe(200);
      await expect(get()).rejects.toThrow(/socket hang up|ECONNRESET/);
      agent.destroy();
    });
  });

  describe('rate limiting and failures', () => {
    it('waits out a 429 Retry-After once and retries', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.region);
      cloud.clearRequests();
      cloud.throttleNext({ retryAfter: '1' });

      const startedAt = Date.now();
      const machine = await provider.describe(ref);

      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
      expect(machine?.state).toBe('running');
      expect(cloud.requests.map((request) => request.status)).toEqual([429, 200]);
    });

    it('waits out a 413 overLimit with Retry-After the same way', async () => {
      const waits: number[] = [];
      const { cloud, provider } = await setup({}, { sleep: async (ms) => void waits.push(ms) });
      cloud.throttleNext({ status: 413, retryAfter: '2' });

      await provider.listOwned();

      expect(waits).toEqual([2000]);
      expect(cloud.requestsTo('compute').map((request) => request.status)).toEqual([413, 200]);
    });

    it('answers throttled when rate-limited again after the wait', async () => {
      const waits: number[] = [];
      const { cloud, provider } = await setup({}, { sleep: async (ms) => void waits.push(ms) });
      cloud.throttleNext({ retryAfter: '1', times: 2 });

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('throttled');
      expect(error.retryable).toBe(true);
      expect(waits).toEqual([1000]);
    });

    it('does not wait longer than the cap: throttled at once', async () => {
      const waits: number[] = [];
      const { cloud, provider } = await setup({}, { sleep: async (ms) => void waits.push(ms), maxRetryAfterMs: 5000 });
      cloud.throttleNext({ retryAfter: '120' });

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('throttled');
      expect(error.message).toMatch(/retry after 120 s/);
      expect(waits).toEqual([]);
    });

    it('maps 5xx to transient with the service named', async () => {
      const { cloud, provider } = await setup();
      cloud.failNext({ status: 503, service: 'compute' });

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('transient');
      expect(error.message).toMatch(/^OpenStack compute \(Nova\) failed: 503 Service Unavailable: Unexpected API Error\./);
    });

    it('falls back to the image name when Glance has no image with that id (its 404 is HTML)', async () => {
      const { cloud, provider } = await setup();
      const missing = '00000000-0000-4000-8000-000000000000';

      const error = await providerRejection(provider.launch(openStackSpec(contractInstanceId('glance'), cloud.region, { image: missing })));

      const lookups = cloud.requestsTo('image', 'GET').map((request) => `${request.resource} ${request.status}`);
      expect(lookups[0]).toBe(`/v2/images/${missing} 404`);
      expect(lookups.slice(1).every((line) => line === '/v2/images 200')).toBe(true);
      expect(error.message).toMatch(new RegExp(`^Image '${missing}' does not exist in OpenStack region RegionOne; available: `));
    });
  });

  describe('listing', () => {
    it('follows servers_links through every page and keeps only servers Hangar owns', async () => {
      const { cloud, provider } = await setup();
      cloud.maxPageSize = 2;
      const ours = Array.from({ length: 4 }, (_, index) =>
        cloud.putServer({ name: `web-${index}`, metadata: { 'hangar:instance-id': `vps-web-${index}-abcdef` } }),
      );
      cloud.putServer({ name: 'not-ours', metadata: {} });

      const owned = await provider.listOwned();

      expect(owned.map((machine) => machine.providerInstanceId).sort()).toEqual(ours.map((server) => server.id).sort());
      expect(owned.every((machine) => machine.state === 'running')).toBe(true);
      const pages = cloud.requestsTo('compute', 'GET', '/servers/detail');
      expect(pages).toHaveLength(3);
      expect(pages[0]?.query).toEqual({});
      expect(pages[1]?.query).toMatchObject({ limit: '2', marker: expect.any(String) });
    });

    it('lists changes since a time, deleted servers included as terminated though Nova strips their metadata', async () => {
      const { cloud, provider } = await setup();
      const since = new Date(cloud.now() - 1000);
      const { ref: kept } = await launchRunning(provider, cloud.region);
      const { ref: gone } = await launchRunning(provider, cloud.region);
      const foreign = cloud.putServer({ name: 'not-ours' });
      await provider.terminate(gone);

      const changed = await provider.listChangedSince(since);

      const byId = new Map(changed.map((machine) => [machine.providerInstanceId, machine]));
      expect(byId.get(kept.providerInstanceId)).toMatchObject({ state: 'running', instanceId: kept.instanceId });
      expect(byId.get(gone.providerInstanceId)?.state).toBe('terminated');
      expect(byId.get(gone.providerInstanceId)?.instanceId).toBeUndefined(); // matched by providerInstanceId
      expect(byId.has(foreign.id)).toBe(false); // a live server without Hangar's mark is not ours
      expect(cloud.requestsTo('compute', 'GET', '/servers/detail').at(-1)?.query).toEqual({
        'changes-since': since.toISOString(),
      });
    });

    it('lists flavors with sizes, GPUs and prices from extra specs', async () => {
      const { cloud, provider } = await setup();
      cloud.maxPageSize = 4;

      const flavors = await provider.listCatalog('flavors');

      expect(flavors.map((flavor) => flavor.id).sort()).toEqual(cloud.flavors.map((flavor) => flavor.id).sort());
      const small = flavors.find((flavor) => flavor.name === 'm1.small');
      expect(small).toMatchObject({
        kind: 'flavors',
        id: '2',
        region: 'RegionOne',
        hourlyMicros: 20_000,
        attributes: { vcpus: 1, memoryMiB: 2048, diskGB: 20, gpus: 0 },
      });
      expect(flavors.find((flavor) => flavor.name === 'm1.tiny')?.hourlyMicros).toBeUndefined();
      expect(flavors.find((flavor) => flavor.name === 'g1.a100')).toMatchObject({
        hourlyMicros: 2_500_000,
        attributes: { gpus: 1, extraSpecs: { 'pci_passthrough:alias': 'a100:1', 'hangar:price_per_hour': '2.50' } },
      });
      expect(cloud.requestsTo('compute', 'GET', /^\/flavors\/[^/]+\/os-extra_specs$/)).toHaveLength(cloud.flavors.length);
      expect(cloud.requestsTo('compute', 'GET', '/flavors/detail')).toHaveLength(2);
    });

    it('lists active images across Glance pages', async () => {
      const { cloud, provider } = await setup();
      cloud.maxPageSize = 2;
      for (let index = 0; index < 3; index += 1) cloud.addImage({ name: `app-${index}` });

      const images = await provider.listCatalog('images');

      expect(images.map((image) => image.name).sort()).toEqual(
        ['app-0', 'app-1', 'app-2', 'cirros-0.6.2-x86_64-disk', 'ubuntu-24.04'].sort(),
      );
      const pages = cloud.requestsTo('image', 'GET', '/v2/images');
      expect(pages).toHaveLength(3);
      expect(pages.every((page) => page.query.status === 'active')).toBe(true);
      expect(images[0]).toMatchObject({ kind: 'images', region: 'RegionOne', attributes: { status: 'active' } });
    });

    it('lists networks, subnets and security groups from Neutron, paged', async () => {
      const { cloud, provider } = await setup();
      cloud.maxPageSize = 2;

      const networks = await provider.listCatalog('networks');
      const subnets = await provider.listCatalog('subnets');
      const groups = await provider.listCatalog('securityGroups');

      expect(networks.map((network) => network.name).sort()).toEqual(['private', 'public', 'shared']);
      expect(networks.find((network) => network.name === 'public')?.attributes).toMatchObject({ external: true });
      expect(subnets).toHaveLength(4);
      expect(subnets.find((subnet) => subnet.name === 'private-subnet')?.attributes).toMatchObject({
        cidr: '10.0.0.0/26',
        ipVersion: 4,
        networkId: cloud.networks.find((network) => network.name === 'private')?.id,
      });
      expect(groups.map((group) => group.name).sort()).toEqual(['default', 'web']);
      expect(cloud.requestsTo('network', 'GET', '/v2.0/networks')).toHaveLength(2);
    });

    it('lists key pairs by name', async () => {
      const { cloud, provider } = await setup();
      cloud.addKeyPair('ops-key');

      const keyPairs = await provider.listCatalog('keyPairs');

      expect(keyPairs.map((keyPair) => keyPair.id)).toEqual(['hangar-key', 'ops-key']);
      expect(keyPairs[0]?.attributes).toMatchObject({ type: 'ssh', fingerprint: expect.any(String) });
    });
  });
});

describe('OpenStack answers, read', () => {
  const answer = (json: unknown, text = '') => ({ json, text });

  it("reads the message from each service's error shape", () => {
    const nova = { conflictingRequest: { code: 409, message: "Cannot 'stop' instance x while it is in vm_state stopped" } };
    const keystone = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
    const neutron = { NeutronError: { type: 'NetworkNotFound', message: 'Network n could not be found.', detail: '' } };
    const placement = { errors: [{ status: 409, title: 'Conflict', detail: 'Inventory in use' }] };
    const glance =
      '<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1>No image found with ID i<br /></body></html>';

    expect(openStackErrorMessage(answer(nova))).toBe("Cannot 'stop' instance x while it is in vm_state stopped");
    expect(openStackErrorMessage(answer(keystone))).toBe('The request you have made requires authentication.');
    expect(openStackErrorMessage(answer(neutron))).toBe('Network n could not be found.');
    expect(openStackErrorMessage(answer(placement))).toBe('Inventory in use');
    expect(openStackErrorMessage(answer(undefined, glance))).toBe('404 Not Found No image found with ID i');
  });

  it('maps status codes to error kinds', () => {
    expect(errorKindFor(400, '', false)).toBe('invalid-request');
    expect(errorKindFor(401, '', false)).toBe('auth');
    expect(errorKindFor(403, 'Policy does not allow', false)).toBe('auth');
    expect(errorKindFor(403, 'Quota exceeded for cores: Requested 8, but already used 20 of 24 cores', false)).toBe('capacity');
    expect(errorKindFor(404, '', false)).toBe('not-found');
    expect(errorKindFor(409, '', false)).toBe('invalid-request');
    expect(errorKindFor(413, 'Quota exceeded', false)).toBe('capacity');
    expect(errorKindFor(413, 'This request was rate-limited.', true)).toBe('throttled');
    expect(errorKindFor(429, '', false)).toBe('throttled');
    expect(errorKindFor(502, '', false)).toBe('transient');
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('maps Nova status and task state to machine states', () => {
    const cases: Array<[string, string | null, string | null]> = [
      ['BUILD', 'spawning', 'pending'],
      ['ACTIVE', null, 'running'],
      ['ACTIVE', 'powering-off', 'stopping'],
      ['ACTIVE', 'reboot_started', 'pending'],
      ['ACTIVE', 'image_snapshot', 'running'],
      ['ACTIVE', 'deleting', 'stopping'],
      ['SHUTOFF', 'deleting', 'stopping'],
      ['REBOOT', 'rebooting', 'pending'],
      ['HARD_REBOOT', 'reboot_started_hard', 'pending'],
      ['RESIZE', 'resize_migrating', 'pending'],
      ['VERIFY_RESIZE', null, 'running'],
      ['MIGRATING', 'migrating', 'running'],
      ['SHUTOFF', null, 'stopped'],
      ['SHUTOFF', 'powering-on', 'pending'],
      ['SUSPENDED', null, 'stopped'],
      ['SHELVED_OFFLOADED', null, 'stopped'],
      ['RESCUE', null, 'error'],
      ['UNKNOWN', null, 'error'],
      ['ERROR', null, 'error'],
      ['DELETED', null, null],
      ['SOFT_DELETED', null, null],
      ['SOMETHING_NEW', null, 'pending'],
    ];
    for (const [status, taskState, expected] of cases) {
      expect(machineStateOf({ status, taskState })?.state ?? null, `${status}/${taskState}`).toBe(expected);
    }
    expect(machineStateOf({ status: 'ERROR', faultMessage: 'No valid host was found. ' })).toEqual({
      state: 'error',
      reason: 'No valid host was found.',
    });
  });

  it('takes fixed addresses as private and floating (else routable) ones as public, IPv4 first', () => {
    expect(
      ipsOf({
        private: [
          { addr: 'fd12::5', version: 6, 'OS-EXT-IPS:type': 'fixed' },
          { addr: '10.0.0.5', version: 4, 'OS-EXT-IPS:type': 'fixed' },
          { addr: '203.0.113.9', version: 4, 'OS-EXT-IPS:type': 'floating' },
        ],
      }),
    ).toEqual({ privateIp: '10.0.0.5', publicIp: '203.0.113.9' });
    expect(ipsOf({ provider: [{ addr: '198.51.100.7', version: 4, 'OS-EXT-IPS:type': 'fixed' }] })).toEqual({
      privateIp: '198.51.100.7',
      publicIp: '198.51.100.7',
    });
    expect(ipsOf({ private: [{ addr: '192.168.1.4', version: 4 }] })).toEqual({ privateIp: '192.168.1.4' });
    expect(ipsOf(undefined)).toEqual({});
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The sync service against the real provider adapters over their doubles: LOCAL (real
 * processes in a temporary directory), AWS (Ec2Provider over the EC2 double, through a
 * registered account) and OPENSTACK (OpenStackProvider over the OpenStack HTTP double, through a
 * registered account). Every provider gets the same checks — catalog counts, quiet second runs,
 * deletions, drift, ghosts, orphans, and no record closed while its machine exists. What happens
 * at the provider is done there directly, as a person in the console would, never through
 * Hangar: the cloud's own API for AWS and OPENSTACK; for LOCAL, whose console is this host, the
 * adapter's own calls and signals to the process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteKeyPairCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Ec2Provider } from '../../shared/adapters/aws/ec2-provider.ts';
import { CLIENT_TAG, OWNER_TAG } from '../../shared/adapters/aws/ec2-launch-request.ts';
import { listLocalImages } from '../../shared/adapters/local/images.ts';
import { inProcessSyncDispatcher } from '../../shared/adapters/local/in-process-sync.ts';
import { LocalProvider } from '../../shared/adapters/local/local-provider.ts';
import { LocalSecretBox } from '../../shared/adapters/local/local-secret-box.ts';
import { OpenStackProvider, OWNER_METADATA_KEY, CLIENT_METADATA_KEY, toOpenStackCredentials } from '../../shared/adapters/openstack/openstack-provider.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { DynamoCatalogRepository } from '../../shared/adapters/dynamodb/catalog-repository.ts';
import { fingerprintOf } from '../../shared/services/sync/catalog-fingerprint.ts';
import { createDb } from '../../shared/db/db.ts';
import { priceEntriesFor, type ProviderName } from '../../shared/domain/catalog.ts';
import type { Instance } from '../../shared/domain/instance.ts';
import type { InstanceStatus } from '../../shared/domain/lifecycle.ts';
import type { Principal } from '../../shared/domain/roles.ts';
import type { SyncJob } from '../../shared/domain/sync.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { CATALOG_KINDS, type CatalogKind, type ComputeProvider, type MachineRef, type MachineState } from '../../shared/ports/compute-provider.ts';
import type { ProviderFactory } from '../../shared/ports/providers.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { Ec2Double } from '../support/ec2-double.ts';
import { PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';
import { OpenStackDouble } from '../support/openstack-double.ts';

const MINUTE = 60_000;
const GRACE_MINUTES = 10;
const AMI = 'ami-0a1b2c3d4e5f60718';

/** What describe() answered the sync service, per machine: the evidence behind closing a record. */
type DescribeLog = { providerInstanceId: string; state: MachineState | null }[];

/** One provider with its double, and what a person can do there without Hangar. */
interface World {
  /** Where the target's machines live. */
  region: string;
  providers: ComputeProvider[];
  providerFactory?: ProviderFactory;
  /**
   * Register what the target needs (a cloud account). Says how sync requests and catalog reads
   * name the target, and the config an instance on it is created with.
   */
  connect(deps: AppDependencies, admin: Principal): Promise<{ target: Record<string, string>; launch: Record<string, unknown> }>;
  /** The ids the provider offers of each catalog kind, read from the double itself. */
  offered(): Record<CatalogKind, string[]>;
  /** Take one item out of what the provider offers. */
  dropCatalogItem(deps: AppDependencies, at: Date): Promise<{ kind: CatalogKind; id: string }>;
  stop(ref: MachineRef): Promise<void>;
  /** Delete the machine and wait until the provider says it is gone. */
  remove(ref: MachineRef): Promise<void>;
  /** A machine carrying Hangar's ownership mark for `instanceId`, made without Hangar. */
  launchForeign(instanceId: string, clientId: string): Promise<string>;
  exists(ref: MachineRef): Promise<boolean>;
  /**
   * Leave the machine in place but make it look like the easy mistake a reconciler could take
   * for gone. Says what the record should then read, and whether only describe() can see it.
   */
  obscure(ref: MachineRef): Promise<{ status: InstanceStatus; onlyDescribeSeesIt: boolean }>;
  describes: DescribeLog;
  /** Pause between provisioning polls (LOCAL processes need real time to answer /health). */
  pollMs: number;
  close(): Promise<void>;
}

function recordDescribes<P extends ComputeProvider>(provider: P, log: DescribeLog): P {
  const describe = provider.describe.bind(provider);
  provider.describe = async (ref) => {
    const machine = await describe(ref);
    log.push({ providerInstanceId: ref.providerInstanceId, state: machine?.state ?? null });
    return machine;
  };
  return provider;
}

async function waitUntil(what: string, check: () => Promise<boolean>, { tries = 200, pauseMs = 25 } = {}): Promise<void> {
  for (let attempt = 0; attempt < tries; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const foreignId = () => `vps-foreign-${randomBytes(3).toString('hex')}`;

// ------------------------------------------------------------------------------------ LOCAL

async function localWorld(): Promise<World> {
  const rootDir = await mkdtemp(join(tmpdir(), 'hangar-sync-local-'));
  const local = new LocalProvider({ rootDir, stopGraceMs: 1000, readinessTimeoutMs: 10_000 });
  const describes: DescribeLog = [];
  recordDescribes(local, describes);
  const target = { provider: 'LOCAL' as const, region: 'local' };
  return {
    region: 'local',
    providers: [local],
    describes,
    pollMs: 50,
    connect: async () => ({ target: { provider: 'LOCAL' }, launch: { provider: 'LOCAL', instanceType: 'local.small' } }),
    offered: () => ({
      flavors: priceEntriesFor('LOCAL').map((entry) => entry.instanceType),
      images: listLocalImages().map((image) => image.name),
      networks: ['loopback'],
      subnets: [],
      securityGroups: [],
      keyPairs: [],
    }),
    // LOCAL's catalog is compiled in (price table, image table): what a release drops stays in
    // the table as the previous release's sync wrote it, and the next sync must mark it deleted.
    dropCatalogItem: async (deps, at) => {
      const item = { kind: 'images' as const, id: 'retired-workload', name: 'retired-workload', region: 'local', attributes: { description: 'no longer shipped' } };
      const when = at.toISOString();
      await new DynamoCatalogRepository(deps.db).write(target, [
        { ...item, provider: 'LOCAL', fingerprint: fingerprintOf(item), firstSeenAt: when, updatedAt: when, syncJobId: 'sync-previous-release' },
      ]);
      return { kind: item.kind, id: item.id };
    },
    stop: (ref) => local.stop(ref),
    remove: (ref) => local.terminate(ref),
    launchForeign: async (instanceId, clientId) =>
      (await local.launch({ instanceId, clientId, name: 'foreign', instanceType: 'local.small', region: 'local', resources: {}, tags: {} })).providerInstanceId,
    exists: async (ref) => (await local.describe(ref)) !== null,
    // The process dies behind Hangar's back: the machine is still there (crashed), not gone.
    obscure: async (ref) => {
      const pid = Number((await local.describe(ref))?.details?.pid);
      process.kill(pid, 'SIGKILL');
      await waitUntil('the crash to be noticed', async () => (await local.describe(ref))?.state === 'error');
      return { status: 'ERROR', onlyDescribeSeesIt: false };
    },
    close: async () => {
      for (const machine of await local.listOwned()) {
        await local.terminate({ instanceId: machine.instanceId!, providerInstanceId: machine.providerInstanceId, region: 'local' });
      }
      local.close();
      await rm(rootDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------------------------ AWS

async function awsWorld(): Promise<World> {
  const ec2 = new Ec2Double({ region: 'us-east-1' });
  const describes: DescribeLog = [];
  const stateOf = async (id: string): Promise<InstanceStateName | undefined> =>
    (await ec2.client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
  // As `aws ec2 wait` does: describe until the instance settles.
  const until = (id: string, state: InstanceStateName) => waitUntil(`${id} to be ${state}`, async () => (await stateOf(id)) === state, { pauseMs: 0 });
  return {
    region: 'us-east-1',
    providers: [],
    providerFactory: (provider, { region }) => {
      if (provider !== 'AWS') throw new Error(`only AWS in this world, not ${provider}`);
      return recordDescribes(new Ec2Provider({ region, client: ec2.client }), describes);
    },
    describes,
    pollMs: 0,
    connect: async (deps, admin) => {
      const account = await deps.services.accounts.create(admin, {
        provider: 'AWS',
        name: 'EC2 account',
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      });
      return { target: { accountId: account.accountId }, launch: { provider: 'AWS', accountId: account.accountId, instanceType: 't3.micro', image: AMI } };
    },
    offered: () => ({
      flavors: ec2.instanceTypes.map((type) => String(type.InstanceType)),
      images: ec2.images.map((image) => image.ImageId!),
      networks: ec2.vpcs.map((vpc) => vpc.VpcId!),
      subnets: ec2.subnets.map((subnet) => subnet.SubnetId!),
      securityGroups: ec2.securityGroups.map((group) => group.GroupId!),
      keyPairs: ec2.keyPairs.map((pair) => pair.KeyName!),
    }),
    dropCatalogItem: async () => {
      await ec2.client.send(new DeleteKeyPairCommand({ KeyName: 'hangar-ops' }));
      return { kind: 'keyPairs', id: 'hangar-ops' };
    },
    stop: async (ref) => {
      await ec2.client.send(new StopInstancesCommand({ InstanceIds: [ref.providerInstanceId] }));
      await until(ref.providerInstanceId, 'stopped');
    },
    remove: async (ref) => {
      await ec2.client.send(new TerminateInstancesCommand({ InstanceIds: [ref.providerInstanceId] }));
      await until(ref.providerInstanceId, 'terminated');
    },
    launchForeign: async (instanceId, clientId) => {
      const output = await ec2.client.send(
        new RunInstancesCommand({
          ImageId: AMI,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: OWNER_TAG, Value: instanceId }, { Key: CLIENT_TAG, Value: clientId }] }],
        }),
      );
      const id = output.Instances![0]!.InstanceId!;
      await until(id, 'running');
      return id;
    },
    exists: async (ref) => !['shutting-down', 'terminated', undefined].includes(await stateOf(ref.providerInstanceId)),
    // Someone removes the ownership tag: the tag-filtered listing misses the instance, which runs on.
    obscure: async (ref) => {
      await ec2.client.send(new DeleteTagsCommand({ Resources: [ref.providerInstanceId], Tags: [{ Key: OWNER_TAG }] }));
      return { status: 'READY', onlyDescribeSeesIt: true };
    },
    close: async () => ec2.mock.restore(),
  };
}

// ------------------------------------------------------------------------------------ OPENSTACK

/** Nova's API as a person with the account's password uses it: a Keystone token, then the call. */
async function nova(cloud: OpenStackDouble, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const credentials = cloud.passwordCredentials();
  const auth = await fetch(`${credentials.authUrl}/auth/tokens`, {
    method: 'POST',
    // One exchange per connection, as Keystone and Nova under uwsgi serve them.
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: credentials.username, password: credentials.password, domain: { name: credentials.userDomainName } } } },
        scope: { project: { name: credentials.projectName, domain: { name: credentials.projectDomainName } } },
      },
    }),
  });
  await auth.text();
  const response = await fetch(`${cloud.endpointUrl('compute')}${path}`, {
    method,
    headers: {
      'x-auth-token': auth.headers.get('x-subject-token') ?? '',
      'content-type': 'application/json',
      'openstack-api-version': 'compute 2.79',
      connection: 'close',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function openstackWorld(clock: ManualClock): Promise<World & { cloud: OpenStackDouble }> {
  // The cloud keeps Hangar's time, so changes-since and token lifetimes follow the manual clock.
  const cloud = await OpenStackDouble.start({ now: () => clock.now().getTime() });
  const describes: DescribeLog = [];
  const serverStatus = async (id: string) => {
    const { status, json } = await nova(cloud, 'GET', `/servers/${id}`);
    return status === 404 ? 'GONE' : String(json.server.status);
  };
  const until = (id: string, status: string) => waitUntil(`${id} to be ${status}`, async () => (await serverStatus(id)) === status, { pauseMs: 0 });
  return {
    cloud,
    region: cloud.region,
    providers: [],
    providerFactory: (provider, { region, credentials }) => {
      if (provider !== 'OPENSTACK') throw new Error(`only OPENSTACK in this world, not ${provider}`);
      return recordDescribes(new OpenStackProvider({ region, credentials: toOpenStackCredentials(credentials), clock: () => clock.now() }), describes);
    },
    describes,
    pollMs: 0,
    connect: async (deps, admin) => {
      const account = await deps.services.accounts.create(admin, { provider: 'OPENSTACK', name: 'Lab cloud', region: cloud.region, credentials: cloud.passwordCredentials() });
      const launch = { provider: 'OPENSTACK', accountId: account.accountId, instanceType: 'm1.small', image: 'cirros-0.6.2-x86_64-disk', networks: ['private'] };
      return { target: { accountId: account.accountId }, launch };
    },
    offered: () => ({
      flavors: cloud.flavors.map((flavor) => flavor.id),
      // Only active images can boot a server; a deactivated one is not on offer.
      images: cloud.images.filter((image) => image.status === 'active').map((image) => image.id),
      networks: cloud.networks.map((network) => network.id),
      subnets: cloud.subnets.map((subnet) => subnet.id),
      securityGroups: cloud.securityGroups.map((group) => group.id),
      keyPairs: cloud.keyPairs.map((pair) => pair.name),
    }),
    // The double has no DELETE /os-keypairs; its collections are its test surface.
    dropCatalogItem: async () => {
      cloud.keyPairs.splice(cloud.keyPairs.findIndex((pair) => pair.name === 'hangar-key'), 1);
      return { kind: 'keyPairs', id: 'hangar-key' };
    },
    stop: async (ref) => {
      expect((await nova(cloud, 'POST', `/servers/${ref.providerInstanceId}/action`, { 'os-stop': null })).status).toBe(202);
      await until(ref.providerInstanceId, 'SHUTOFF');
    },
    remove: async (ref) => {
      expect((await nova(cloud, 'DELETE', `/servers/${ref.providerInstanceId}`)).status).toBe(204);
      await until(ref.providerInstanceId, 'GONE');
    },
    launchForeign: async (instanceId, clientId) => {
      const image = cloud.images.find((candidate) => candidate.name === 'cirros-0.6.2-x86_64-disk')!;
      const created = await nova(cloud, 'POST', '/servers', {
        server: { name: 'foreign', flavorRef: '1', imageRef: image.id, networks: 'auto', metadata: { [OWNER_METADATA_KEY]: instanceId, [CLIENT_METADATA_KEY]: clientId } },
      });
      expect(created.status).toBe(202);
      return String(created.json.server.id);
    },
    exists: async (ref) => (await serverStatus(ref.providerInstanceId)) !== 'GONE',
    // DELETE accepted, but Nova is still deleting (it may yet fail and leave the server in ERROR).
    obscure: async (ref) => {
      const before = cloud.deleteReads;
      cloud.deleteReads = 10; // more reads than the test makes: Nova is still at it throughout
      expect((await nova(cloud, 'DELETE', `/servers/${ref.providerInstanceId}`)).status).toBe(204);
      cloud.deleteReads = before;
      return { status: 'READY', onlyDescribeSeesIt: false };
    },
    close: () => cloud.close(),
  };
}

// ------------------------------------------------------------------------------------ the suite

interface Suite<W extends World = World> {
  world: W;
  deps: AppDependencies;
  clock: ManualClock;
  operator: Principal;
  scope: Awaited<ReturnType<World['connect']>>;
  syncNow(types: readonly string[]): Promise<SyncJob[]>;
  reconcile(): Promise<SyncJob>;
  readyInstance(name: string): Promise<Instance>;
  get(id: string): Promise<Instance>;
}

const refOf = (instance: Instance): MachineRef => ({
  instanceId: instance.id,
  providerInstanceId: instance.providerInstanceId!,
  region: instance.region,
  ...(instance.config.accountId ? { accountId: instance.config.accountId } : {}),
});

const counts = (job: SyncJob) => ({ status: job.status, created: job.created, updated: job.updated, deleted: job.deleted, unchanged: job.unchanged });
const findingsFor = (job: SyncJob, instanceId: string) => (job.findings ?? []).filter((finding) => finding.instanceId === instanceId);
const SEGMENT: Record<CatalogKind, string> = {
  flavors: 'flavors',
  images: 'images',
  networks: 'networks',
  subnets: 'subnets',
  securityGroups: 'security-groups',
  keyPairs: 'key-pairs',
};
const WRITE_COMMANDS = /^(Put|Update|Delete|BatchWrite|TransactWrite)Command$/;

function describeSyncAgainst<W extends World>(name: ProviderName, makeWorld: (clock: ManualClock) => Promise<W>, more?: (s: Suite<W>) => void): void {
  describe(`sync against ${name}`, () => {
    const s = {} as Suite<W>;
    let table: TestTable;

    beforeAll(async () => {
      s.clock = new ManualClock(new Date('2026-06-01T10:00:00.000Z'));
      s.world = await makeWorld(s.clock);
      table = await createTestTable('sync-providers');
      s.deps = buildAppDependencies({
        db: createDb({ tableName: table.tableName, client: table.client }),
        providers: s.world.providers,
        ...(s.world.providerFactory ? { providerFactory: s.world.providerFactory } : {}),
        workflows: () => new RecordingWorkflows(),
        clock: s.clock,
        secretBox: LocalSecretBox.inMemory(),
        // Runs the jobs before the request returns, so a test reads finished jobs.
        syncDispatcher: (sync) => inProcessSyncDispatcher((run) => sync.run(run.target, run.jobIds), { wait: true }),
      });
      const client = await s.deps.services.clients.create(PLATFORM_ADMIN, { name: `${name} Sync Tenant`, reconcilePolicy: { graceMinutes: GRACE_MINUTES } });
      s.operator = principalFor(client.clientId, 'operator');
      s.scope = await s.world.connect(s.deps, principalFor(client.clientId, 'admin'));

      s.syncNow = async (types) => {
        const queued = await s.deps.services.sync.request(s.operator, { ...s.scope.target, types });
        // Read as the platform admin: a tenant does not see LOCAL findings about machines of no one.
        return Promise.all(queued.map((job) => s.deps.services.sync.getJob(PLATFORM_ADMIN, job.jobId)));
      };
      s.reconcile = async () => (await s.syncNow(['instances']))[0]!;
      s.get = (id) => s.deps.services.instances.get(s.operator, id);
      // Provisioned step by step, as the workflow would, against the real adapter.
      s.readyInstance = async (instanceName) => {
        const created = await s.deps.services.instances.create(s.operator, { name: instanceName, config: s.scope.launch });
        const ref = { clientId: created.clientId, instanceId: created.id };
        const steps = s.deps.services.provisioning;
        await steps.reserve(ref);
        await steps.launch(ref);
        await waitUntil(`${created.id} to come up`, async () => (await steps.poll(ref)).done, { pauseMs: s.world.pollMs });
        await steps.configure(ref);
        const ready = await steps.activate(ref);
        expect(ready.status).toBe('READY');
        return ready;
      };
    });

    afterAll(async () => {
      await s.world?.close();
      if (table) await deleteTestTable(table);
    });

    const catalogItems = async (kind: CatalogKind, includeDeleted = false) =>
      (await s.deps.services.catalog.list(s.operator, SEGMENT[kind], { ...s.scope.target, ...(includeDeleted ? { includeDeleted: 'true' } : {}) })).items as {
        id: string;
        syncJobId: string;
        updatedAt: string;
        deletedAt?: string;
      }[];

    it('catalog: counts what the provider offers, writes nothing on an unchanged run, and marks what it dropped deleted', async () => {
      const offered = s.world.offered();
      // Every write to the table, to tell catalog writes from the job and state records.
      const send = vi.spyOn(s.deps.db.doc, 'send');
      const catalogWrites = () =>
        send.mock.calls
          .map(([command]) => command as unknown as { constructor: { name: string }; input: unknown })
          .filter((command) => WRITE_COMMANDS.test(command.constructor.name) && JSON.stringify(command.input).includes('"CATALOG#'));
      try {
        const first = await s.syncNow(CATALOG_KINDS);
        expect(first.map(counts)).toEqual(
          CATALOG_KINDS.map((kind) => ({ status: 'SUCCEEDED', created: offered[kind].length, updated: 0, deleted: 0, unchanged: 0 })),
        );
        for (const kind of CATALOG_KINDS) expect((await catalogItems(kind)).map((item) => item.id).sort()).toEqual([...offered[kind]].sort());
        expect(catalogWrites().length).toBeGreaterThan(0);
        const before = await Promise.all(CATALOG_KINDS.map((kind) => catalogItems(kind)));

        s.clock.advance(MINUTE);
        send.mockClear();
        const second = await s.syncNow(CATALOG_KINDS);
        expect(second.map(counts)).toEqual(
          CATALOG_KINDS.map((kind) => ({ status: 'SUCCEEDED', created: 0, updated: 0, deleted: 0, unchanged: offered[kind].length })),
        );
        expect(catalogWrites()).toEqual([]);
        const after = await Promise.all(CATALOG_KINDS.map((kind) => catalogItems(kind)));
        expect(after).toEqual(before);
        CATALOG_KINDS.forEach((_, index) => expect(after[index]!.every((item) => item.syncJobId === first[index]!.jobId)).toBe(true));
      } finally {
        send.mockRestore();
      }

      const dropped = await s.world.dropCatalogItem(s.deps, s.clock.now());
      s.clock.advance(MINUTE);
      const [third] = await s.syncNow([dropped.kind]);
      expect(counts(third!)).toEqual({ status: 'SUCCEEDED', created: 0, updated: 0, deleted: 1, unchanged: s.world.offered()[dropped.kind].length });
      expect((await catalogItems(dropped.kind)).map((item) => item.id)).not.toContain(dropped.id);
      // Still readable with includeDeleted, marked by the run that found it gone.
      const gone = (await catalogItems(dropped.kind, true)).find((item) => item.id === dropped.id);
      expect(gone).toMatchObject({ deletedAt: s.clock.now().toISOString(), syncJobId: third!.jobId });
    });

    it('drift: a machine stopped at the provider turns its READY record STOPPED, with an event', async () => {
      const ready = await s.readyInstance('drift');
      await s.world.stop(refOf(ready));

      const job = await s.reconcile();

      expect(job.status).toBe('SUCCEEDED');
      expect(findingsFor(job, ready.id)).toEqual([expect.objectContaining({ kind: 'drift', outcome: 'corrected', providerInstanceId: ready.providerInstanceId })]);
      const after = await s.get(ready.id);
      expect(after.status).toBe('STOPPED');
      expect(after.billableSince).toBeUndefined();
      const events = (await s.deps.services.instances.events(s.operator, ready.id, {})).items;
      expect(events).toContainEqual(
        expect.objectContaining({ fromStatus: 'READY', toStatus: 'STOPPED', message: expect.stringMatching(/provider reports the machine stopped.*it was recorded READY/) }),
      );
    });

    it('ghost: a machine deleted at the provider is reported at once, and closed only after the grace period once describe confirms it gone', async () => {
      const ready = await s.readyInstance('ghost');
      const pid = ready.providerInstanceId!;
      await s.world.remove(refOf(ready));
      const foundAt = s.clock.now().toISOString();

      const first = await s.reconcile();
      expect(findingsFor(first, ready.id)).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'reported' })]);
      expect((await s.get(ready.id)).status).toBe('READY');
      const events = (await s.deps.services.instances.events(s.operator, ready.id, {})).items.map((e) => e.type);
      expect(events).toContain('reconcile.ghost-found');

      s.clock.advance((GRACE_MINUTES / 2) * MINUTE);
      const during = await s.reconcile();
      expect(findingsFor(during, ready.id)).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'reported' })]);
      expect((await s.get(ready.id)).status).toBe('READY');

      s.clock.advance((GRACE_MINUTES / 2) * MINUTE);
      s.world.describes.length = 0;
      const after = await s.reconcile();
      expect(findingsFor(after, ready.id)).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'marked-terminated' })]);
      expect(s.world.describes).toContainEqual({ providerInstanceId: pid, state: null });
      const closed = await s.get(ready.id);
      expect(closed).toMatchObject({ status: 'TERMINATED', terminatedAt: foundAt });
      expect(closed.billableSince).toBeUndefined();
    });

    it('orphan: a machine marked for an instance Hangar never recorded is reported and left running', async () => {
      const instanceId = foreignId();
      const pid = await s.world.launchForeign(instanceId, s.operator.clientId!);

      const job = await s.reconcile();

      const orphan = (job.findings ?? []).find((finding) => finding.providerInstanceId === pid);
      expect(orphan).toMatchObject({ kind: 'orphan', outcome: 'reported', instanceId });
      expect(orphan?.message).toMatch(/which Hangar has no record of/);
      expect(await s.world.exists({ instanceId, providerInstanceId: pid, region: s.world.region })).toBe(true);
    });

    it('keeps a record open while its machine still exists at the provider, whatever the listing shows', async () => {
      const ready = await s.readyInstance('kept');
      s.world.describes.length = 0;
      const { status, onlyDescribeSeesIt } = await s.world.obscure(refOf(ready));

      const first = await s.reconcile();
      s.clock.advance((GRACE_MINUTES + 1) * MINUTE);
      const later = await s.reconcile();

      for (const job of [first, later]) expect(findingsFor(job, ready.id).filter((f) => f.kind === 'ghost')).toEqual([]);
      if (onlyDescribeSeesIt) expect(s.world.describes).toContainEqual({ providerInstanceId: ready.providerInstanceId, state: 'running' });
      expect((await s.get(ready.id)).status).toBe(status);
      expect(await s.world.exists(refOf(ready))).toBe(true);
    });

    more?.(s);
  });
}

describeSyncAgainst('LOCAL', localWorld);

describeSyncAgainst('AWS', awsWorld);

describeSyncAgainst('OPENSTACK', openstackWorld, (s) => {
  it('reads only what changed since the last run (changes-since), and finds a server deleted in between', async () => {
    const { cloud } = s.world;
    const quiet = await s.readyInstance('quiet');
    const gone = await s.readyInstance('gone');
    // Past the hour since the last full run: this one lists everything and sets the watermark.
    s.clock.advance(61 * MINUTE);
    const full = await s.reconcile();
    expect(full.incremental).toBe(false);
    await s.world.remove(refOf(gone));

    s.clock.advance(MINUTE);
    cloud.clearRequests();
    const job = await s.reconcile();

    expect(job.incremental).toBe(true);
    const listings = cloud.requestsTo('compute', 'GET', '/servers/detail');
    expect(listings.length).toBeGreaterThan(0);
    // Asked since the last run's start, less the allowance for clock skew.
    const since = new Date(Date.parse(full.startedAt!) - 2 * MINUTE).toISOString();
    expect(listings.map((request) => request.query['changes-since'])).toEqual(listings.map(() => since));
    expect(findingsFor(job, gone.id)).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'reported' })]);
    // The deleted server was confirmed with its own GET (404); the unchanged one was not asked about.
    expect(cloud.requestsTo('compute', 'GET', `/servers/${gone.providerInstanceId}`).map((request) => request.status)).toEqual([404]);
    expect(cloud.requestsTo('compute', 'GET', `/servers/${quiet.providerInstanceId}`)).toEqual([]);
    expect((await s.get(gone.id)).status).toBe('READY');
    expect((await s.get(quiet.id)).status).toBe('READY');
  });

  it('still runs a full reconciliation once the last full one is more than an hour old', async () => {
    const { cloud } = s.world;
    s.clock.advance(61 * MINUTE);
    const full = await s.reconcile();
    expect(full.incremental).toBe(false);

    s.clock.advance(59 * MINUTE);
    expect((await s.reconcile()).incremental).toBe(true);

    s.clock.advance(2 * MINUTE);
    cloud.clearRequests();
    const again = await s.reconcile();
    expect(again.incremental).toBe(false);
    const listings = cloud.requestsTo('compute', 'GET', '/servers/detail');
    expect(listings.length).toBeGreaterThan(0);
    expect(listings.every((request) => !('changes-since' in request.query))).toBe(true);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcessSyncDispatcher } from '../../shared/adapters/local/in-process-sync.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { DynamoSyncJobRepository } from '../../shared/adapters/dynamodb/sync-job-repository.ts';
import { DynamoAccountRepository } from '../../shared/adapters/dynamodb/account-repository.ts';
import { targetKey } from '../../shared/domain/sync.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { SyncJob } from '../../shared/domain/sync.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { CatalogItem, CatalogKind, Machine } from '../../shared/ports/compute-provider.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { provisionToReady } from '../support/provisioning.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

/** A fake whose catalog a test edits, and whose listing can miss a machine (eventual consistency). */
class CatalogFakeProvider extends FakeProvider {
  catalog: Partial<Record<CatalogKind, CatalogItem[]>> = {};
  hiddenFromListing = new Set<string>();

  override async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    return structuredClone(this.catalog[kind] ?? []);
  }

  override async listOwned(): Promise<Machine[]> {
    return (await super.listOwned()).filter((m) => !this.hiddenFromListing.has(m.providerInstanceId));
  }
}

const flavor = (id: string, hourlyMicros: number, vcpus = 1): CatalogItem => ({
  kind: 'flavors',
  id,
  name: id,
  region: 'local',
  hourlyMicros,
  attributes: { vcpus, memoryMiB: 1024 * vcpus },
});
const image = (id: string): CatalogItem => ({ kind: 'images', id, name: id, region: 'local', attributes: { description: id } });

describe('sync service', () => {
  let table: TestTable;
  let deps: AppDependencies;
  const clock = new ManualClock(new Date('2026-06-01T10:00:00.000Z'));
  const provider = new CatalogFakeProvider({ name: 'LOCAL' });
  const workflows = new RecordingWorkflows();

  beforeAll(async () => {
    table = await createTestTable('sync');
    deps = buildAppDependencies({
      db: createDb({ tableName: table.tableName, client: table.client }),
      providers: [provider],
      workflows: () => workflows,
      clock,
      // Runs the jobs before POST /api/sync's call returns, so the test reads finished jobs.
      syncDispatcher: (sync) => inProcessSyncDispatcher((run) => sync.run(run.target, run.jobIds), { wait: true }),
    });
  });
  afterAll(async () => deleteTestTable(table));

  const syncNow = async (types: string[]): Promise<SyncJob[]> => {
    const queued = await deps.services.sync.request(PLATFORM_ADMIN, { provider: 'LOCAL', types });
    return Promise.all(queued.map((job) => deps.services.sync.getJob(PLATFORM_ADMIN, job.jobId)));
  };
  const counts = (job: SyncJob) => ({ status: job.status, created: job.created, updated: job.updated, deleted: job.deleted, unchanged: job.unchanged });

  describe('catalog', () => {
    beforeEach(() => {
      provider.catalog = {
        flavors: [flavor('local.small', 10_000), flavor('local.medium', 40_000, 2), flavor('local.gpu', 900_000, 8)],
        images: [image('http-echo'), image('sleeper')],
      };
    });

    it('counts what it creates, writes nothing on an unchanged second run, and marks what vanished deleted', async () => {
      const [first] = await syncNow(['flavors']);
      expect(counts(first!)).toEqual({ status: 'SUCCEEDED', created: 3, updated: 0, deleted: 0, unchanged: 0 });

      const before = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL' });
      clock.advance(60_000);
      const [second] = await syncNow(['flavors']);
      expect(counts(second!)).toEqual({ status: 'SUCCEEDED', created: 0, updated: 0, deleted: 0, unchanged: 3 });
      const after = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL' });
      // Not one item was rewritten: each still carries the first job's id and time.
      expect(after.items).toEqual(before.items);
      expect(after.items.every((i) => 'syncJobId' in i && i.syncJobId === first!.jobId)).toBe(true);

      provider.catalog.flavors = [flavor('local.small', 12_000), flavor('local.medium', 40_000, 2)];
      clock.advance(60_000);
      const [third] = await syncNow(['flavors']);
      expect(counts(third!)).toEqual({ status: 'SUCCEEDED', created: 0, updated: 1, deleted: 1, unchanged: 1 });

      const live = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL' });
      expect(live.items.map((i) => [i.id, i.hourlyMicros])).toEqual([
        ['local.medium', 40_000],
        ['local.small', 12_000],
      ]);
      const all = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL', includeDeleted: 'true' });
      const gone = all.items.find((i) => i.id === 'local.gpu') as { deletedAt?: string };
      expect(gone.deletedAt).toBe(clock.now().toISOString());
      expect(live.syncedAt).toBe(clock.now().toISOString());
    });

    it('checks a create against the synced catalog: an unknown or deleted flavor or image is a 400 naming what exists', async () => {
      provider.catalog.flavors = [flavor('local.small', 10_000), flavor('local.medium', 40_000, 2), flavor('local.large', 120_000, 4)];
      await syncNow(['flavors', 'images']);
      provider.catalog.flavors = [flavor('local.small', 10_000), flavor('local.medium', 40_000, 2)];
      await syncNow(['flavors']);
      const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Catalog Checked Inc' });
      const operator = principalFor(client.clientId, 'operator');

      const unknownImage = deps.services.instances.create(operator, { name: 'box', config: { provider: 'LOCAL', instanceType: 'local.small', image: 'nope' } });
      await expect(unknownImage).rejects.toThrow(ValidationError);
      await expect(unknownImage).rejects.toThrow(/image 'nope' is not in the catalog of LOCAL \(local\); available include: http-echo, sleeper/);

      // local.large is in the price table, but has left the synced catalog.
      const deletedFlavor = deps.services.instances.create(operator, { name: 'box', config: { provider: 'LOCAL', instanceType: 'local.large' } });
      await expect(deletedFlavor).rejects.toMatchObject({ status: 400, code: 'UNKNOWN_INSTANCE_TYPE' });
      await expect(deletedFlavor).rejects.toThrow(/was removed from LOCAL \(local\)/);

      const fine = await deps.services.instances.create(operator, { name: 'box', config: { provider: 'LOCAL', instanceType: 'local.medium', image: 'sleeper' } });
      expect(fine.status).toBe('PENDING');
    });

    it('lets two overlapping runs of one target both succeed', async () => {
      const runs = await Promise.all([syncNow(['flavors', 'images']), syncNow(['flavors', 'images']), syncNow(['flavors'])]);
      expect(runs.flat().map((job) => job.status)).toEqual(Array(5).fill('SUCCEEDED'));
    });

    it('records a provider failure on the job and leaves the catalog as it was', async () => {
      const before = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL', includeDeleted: 'true' });
      const original = provider.listCatalog.bind(provider);
      provider.listCatalog = async () => {
        throw new Error('catalog endpoint answered 503');
      };
      try {
        const [job] = await syncNow(['flavors']);
        expect(job!.status).toBe('FAILED');
        expect(job!.errors).toEqual(['catalog endpoint answered 503']);
      } finally {
        provider.listCatalog = original;
      }
      const after = await deps.services.catalog.list(PLATFORM_ADMIN, 'flavors', { provider: 'LOCAL', includeDeleted: 'true' });
      expect(after.items).toEqual(before.items);
    });
  });

  describe('status reconciliation', () => {
    /** A READY instance provisioned step by step. */
    async function readyInstance(clientName: string, policy?: Record<string, unknown>) {
      const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: clientName, ...(policy ? { reconcilePolicy: policy } : {}) });
      const operator = principalFor(client.clientId, 'operator');
      const created = await deps.services.instances.create(operator, { name: 'node', config: { provider: 'LOCAL', instanceType: 'local.small' } });
      const ref = { clientId: created.clientId, instanceId: created.id };
      return { ready: await provisionToReady(deps.services.provisioning, ref), operator, ref };
    }
    const reconcile = async () => (await syncNow(['instances']))[0]!;
    const get = (id: string) => deps.services.instances.get(PLATFORM_ADMIN, id);
    const eventTypes = async (id: string) => (await deps.services.instances.events(PLATFORM_ADMIN, id, {})).items.map((e) => e.type);

    it('corrects drift with an event: the provider says stopped, the record said READY', async () => {
      const { ready } = await readyInstance('Drift Inc');
      provider.setState(ready.id, 'stopped');
      const job = await reconcile();
      expect(job.status).toBe('SUCCEEDED');
      expect(job.findings).toContainEqual(expect.objectContaining({ kind: 'drift', outcome: 'corrected', instanceId: ready.id }));
      const after = await get(ready.id);
      expect(after.status).toBe('STOPPED');
      expect(after.billableSince).toBeUndefined();
      const events = (await deps.services.instances.events(PLATFORM_ADMIN, ready.id, {})).items;
      expect(events.some((e) => e.toStatus === 'STOPPED' && /provider reports the machine stopped; it was recorded READY/.test(e.message))).toBe(true);

      provider.setState(ready.id, 'running');
      await reconcile();
      expect((await get(ready.id)).status).toBe('READY');
    });

    it('believes no listing alone: a machine missing from the list but found by describe is not a ghost', async () => {
      const { ready } = await readyInstance('Listing Lag Inc');
      provider.hiddenFromListing.add(ready.providerInstanceId!);
      try {
        const job = await reconcile();
        expect(job.findings?.filter((f) => f.instanceId === ready.id)).toEqual([]);
        expect((await get(ready.id)).status).toBe('READY');
      } finally {
        provider.hiddenFromListing.clear();
      }
    });

    it('reports a ghost at once and closes its record only after the grace period, billing up to when it was found gone', async () => {
      const { ready } = await readyInstance('Ghost Inc', { graceMinutes: 10 });
      await provider.terminate({ instanceId: ready.id, providerInstanceId: ready.providerInstanceId!, region: 'local' });
      const foundAt = clock.now().toISOString();

      const first = await reconcile();
      expect(first.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: ready.id }));
      expect((await get(ready.id)).status).toBe('READY');
      expect(await eventTypes(ready.id)).toContain('reconcile.ghost-found');

      clock.advance(5 * 60_000);
      const during = await reconcile();
      expect(during.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: ready.id }));
      expect((await get(ready.id)).status).toBe('READY');

      clock.advance(5 * 60_000);
      const after = await reconcile();
      expect(after.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'marked-terminated', instanceId: ready.id }));
      const closed = await get(ready.id);
      expect(closed.status).toBe('TERMINATED');
      expect(closed.terminatedAt).toBe(foundAt);
      expect(closed.billableSince).toBeUndefined();

      // Reported once, acted on once: the next run has nothing to say about it.
      const quiet = await reconcile();
      expect(quiet.findings?.filter((f) => f.instanceId === ready.id)).toEqual([]);
    });

    it("shows a client only the findings about its own instances in LOCAL's shared job", async () => {
      const { ready, operator } = await readyInstance('Private Ghost Inc', { ghosts: 'report' });
      await provider.terminate({ instanceId: ready.id, providerInstanceId: ready.providerInstanceId!, region: 'local' });
      const job = await reconcile();
      const other = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Nosy Neighbour Inc' });
      const nosy = await deps.services.sync.getJob(principalFor(other.clientId, 'viewer'), job.jobId);
      expect(nosy.findings?.some((f) => f.instanceId === ready.id)).toBe(false);
      const own = await deps.services.sync.getJob(operator, job.jobId);
      expect(own.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', instanceId: ready.id }));
      expect(own.findings?.every((f) => f.clientId === ready.clientId)).toBe(true);
    });

    it("keeps reporting a ghost under a 'report' policy and never closes the record", async () => {
      const { ready } = await readyInstance('Ghost Reporter Inc', { graceMinutes: 0, ghosts: 'report' });
      await provider.terminate({ instanceId: ready.id, providerInstanceId: ready.providerInstanceId!, region: 'local' });
      await reconcile();
      clock.advance(60 * 60_000);
      const later = await reconcile();
      expect(later.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: ready.id }));
      expect((await get(ready.id)).status).toBe('READY');
    });

    it('reports an orphan that no record explains, and never releases a machine whose client is unknown', async () => {
      await readyInstance('Orphan Inc', { graceMinutes: 15, orphans: 'terminate' });
      const unknown = await provider.launch({ instanceId: 'inst-never-recorded', clientId: 'client-unknown', name: 'x', instanceType: 'local.small', region: 'local', resources: {}, tags: {} });

      const first = await reconcile();
      const orphan = first.findings?.find((f) => f.providerInstanceId === unknown.providerInstanceId);
      expect(orphan).toMatchObject({ kind: 'orphan', outcome: 'reported', instanceId: 'inst-never-recorded' });
      expect(orphan?.message).toMatch(/which Hangar has no record of/);
      expect(provider.machineFor('inst-never-recorded')).toBeDefined();

      // Nobody's client is known for it, so even past the grace period it is only reported.
      clock.advance(20 * 60_000);
      const later = await reconcile();
      expect(later.findings).toContainEqual(expect.objectContaining({ providerInstanceId: unknown.providerInstanceId, outcome: 'reported' }));
      expect(provider.machineFor('inst-never-recorded')).toBeDefined();
    });

    it("terminates a TERMINATED instance's leftover machine after the grace period under a 'terminate' policy", async () => {
      const { ready } = await readyInstance('Leak Inc', { graceMinutes: 15, orphans: 'terminate' });
      // The record says TERMINATED but the machine is still there (a release that never happened).
      const record = await get(ready.id);
      await deps.instances.save(record, { ...record, status: 'TERMINATED', terminatedAt: clock.now().toISOString(), version: record.version + 1 }, [
        { type: 'instance.status-changed', actor: 'test', message: 'closed without release', fromStatus: 'READY', toStatus: 'TERMINATED' },
      ]);
      const first = await reconcile();
      expect(first.findings).toContainEqual(expect.objectContaining({ kind: 'orphan', outcome: 'reported', instanceId: ready.id }));
      expect(provider.machineFor(ready.id)).toBeDefined();

      clock.advance(16 * 60_000);
      const later = await reconcile();
      expect(later.findings).toContainEqual(expect.objectContaining({ kind: 'orphan', outcome: 'terminated', instanceId: ready.id }));
      expect(provider.machineFor(ready.id)).toBeUndefined();

      const cleared = await reconcile();
      expect(cleared.findings).toContainEqual(expect.objectContaining({ kind: 'orphan', outcome: 'cleared', instanceId: ready.id }));
    });
  });

  describe("a cloud account's regions", () => {
    it('refuses a region of the account with no synced catalog, saying how to sync it, and checks the home region', async () => {
      const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Two Regions Inc' });
      const at = clock.now().toISOString();
      await new DynamoAccountRepository(deps.db).create({
        accountId: 'acct-two-regions',
        clientId: client.clientId,
        provider: 'OPENSTACK',
        name: 'lab',
        region: 'RegionOne',
        sealedCredentials: { scheme: 'local-aes-256-gcm', keyId: 'k', iv: '', ciphertext: '', tag: '' } as never,
        credentialKeys: [],
        createdAt: at,
        updatedAt: at,
        lastTestedAt: at,
        lastTestResult: { ok: true, message: 'Connected' },
        version: 1,
      });
      const home = { provider: 'OPENSTACK' as const, region: 'RegionOne', accountId: 'acct-two-regions', clientId: client.clientId };
      const syncs = new DynamoSyncJobRepository(deps.db);
      await syncs.saveState(await syncs.getState(targetKey(home), 'flavors'), { targetKey: targetKey(home), resourceType: 'flavors', lastSucceededAt: at });

      const elsewhere = deps.services.catalog.checkLaunch({ ...home, region: 'RegionTwo' }, { instanceType: 'm1.small' });
      await expect(elsewhere).rejects.toMatchObject({ status: 400, code: 'UNKNOWN_REGION' });
      await expect(elsewhere).rejects.toThrow(/POST \/api\/sync \{"accountId": "acct-two-regions", "region": "RegionTwo"\}/);
      // Home has synced flavors, none of them m1.small.
      await expect(deps.services.catalog.checkLaunch(home, { instanceType: 'm1.small' })).rejects.toMatchObject({ code: 'UNKNOWN_INSTANCE_TYPE' });
    });
  });

  describe('jobs', () => {
    it('lists jobs newest first, by type, and hides another client’s account jobs', async () => {
      await syncNow(['images', 'instances']);
      const page = await deps.services.sync.listJobs(PLATFORM_ADMIN, { limit: '2' });
      expect(page.items).toHaveLength(2);
      expect(page.items[0]!.jobId > page.items[1]!.jobId).toBe(true);
      const images = await deps.services.sync.listJobs(PLATFORM_ADMIN, { type: 'images' });
      expect(images.items.every((j) => j.resourceType === 'images')).toBe(true);

      const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Reader Inc' });
      const viewer = principalFor(client.clientId, 'viewer');
      // LOCAL's jobs are shared and readable; a viewer may not start one.
      await expect(deps.services.sync.getJob(viewer, page.items[0]!.jobId)).resolves.toMatchObject({ jobId: page.items[0]!.jobId });
      await expect(deps.services.sync.request(viewer, { provider: 'LOCAL' })).rejects.toMatchObject({ status: 403 });
      await expect(deps.services.sync.getJob(viewer, 'sync-doesnotexist')).rejects.toMatchObject({ status: 404 });
    });

    it('closes a job whose run was lost as FAILED at the next periodic run', async () => {
      // A job left RUNNING, as by an invocation that timed out halfway.
      const { completedAt: _completedAt, ...job } = (await syncNow(['images']))[0]!;
      await new DynamoSyncJobRepository(deps.db).putJob({ ...job, status: 'RUNNING' });
      clock.advance(16 * 60_000);
      await deps.services.sync.runScheduled();
      const closed = await deps.services.sync.getJob(PLATFORM_ADMIN, job.jobId);
      expect(closed.status).toBe('FAILED');
      expect(closed.errors).toEqual(['The job was interrupted: no result within 15 minutes of being queued']);
    });

    it('refuses bad requests with messages a person can act on', async () => {
      await expect(deps.services.sync.request(PLATFORM_ADMIN, { types: ['planets'] })).rejects.toMatchObject({ status: 400 });
      await expect(deps.services.sync.request(PLATFORM_ADMIN, { provider: 'LOCAL', region: 'mars' })).rejects.toThrow(/LOCAL has one region, 'local'/);
      await expect(deps.services.sync.request(PLATFORM_ADMIN, { accountId: 'acct-missing' })).rejects.toMatchObject({ status: 404 });
      await expect(deps.services.sync.request(PLATFORM_ADMIN, { region: 'eu-west-1' })).rejects.toThrow(/region needs an accountId/);
    });
  });
});

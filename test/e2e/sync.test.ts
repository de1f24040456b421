import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/** Catalog sync and reconciliation on `npm start`'s runtime, driven over HTTP as a user would. */
describe('sync on the local runtime', () => {
  let runtime: RuntimeProcess;
  let admin: ReturnType<typeof apiClient>;
  let operator: ReturnType<typeof apiClient>;
  let viewer: ReturnType<typeof apiClient>;

  const finished = (api: ReturnType<typeof apiClient>, ids: string[]) =>
    waitFor(`sync jobs ${ids.join(', ')} to finish`, async () => {
      const jobs = await Promise.all(ids.map(async (id) => (await api('GET', `/api/sync-jobs/${id}`)).body.job));
      return jobs.every((j) => j.status === 'SUCCEEDED' || j.status === 'FAILED') ? jobs : undefined;
    });

  beforeAll(async () => {
    runtime = await startRuntimeProcess();
    admin = apiClient(runtime.url, runtime.adminKey);
    // Ghosts are closed at once for this client, so the walk does not wait out a real grace period.
    const client = await admin('POST', '/api/clients', { name: 'Sync Walk Inc', reconcilePolicy: { graceMinutes: 0 } });
    expect(client.status).toBe(201);
    expect(client.body.client.reconcilePolicy).toEqual({ graceMinutes: 0, orphans: 'report', ghosts: 'mark-terminated' });
    const key = async (role: string) => {
      const issued = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: role, role });
      return apiClient(runtime.url, issued.body.apiKey.key);
    };
    operator = await key('operator');
    viewer = await key('viewer');
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('has the LOCAL catalog synced at start, and a requested sync of it writes nothing', async () => {
    const flavors = await waitFor('the first sync to bring in the flavors', async () => {
      const { body } = await viewer('GET', '/api/catalog/flavors?provider=LOCAL');
      return body.syncedAt ? body : undefined;
    });
    expect(flavors.source).toBe('synced');
    expect(flavors.flavors.map((f: { id: string }) => f.id)).toEqual(['local.large', 'local.medium', 'local.small', 'local.xlarge']);
    expect(flavors.flavors.find((f: { id: string }) => f.id === 'local.small')).toMatchObject({ pricePerHour: 0.01, attributes: { vcpus: 1 } });

    const requested = await operator('POST', '/api/sync', { provider: 'LOCAL', types: ['flavors', 'images', 'instances'] });
    expect(requested.status).toBe(202);
    expect(requested.body.jobs.map((j: { resourceType: string; status: string }) => [j.resourceType, j.status])).toEqual([
      ['flavors', 'QUEUED'],
      ['images', 'QUEUED'],
      ['instances', 'QUEUED'],
    ]);
    const jobs = await finished(viewer, requested.body.jobs.map((j: { id: string }) => j.id));
    expect(jobs[0]).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, deleted: 0, unchanged: 4, trigger: 'request' });

    // LOCAL's jobs span every client, so only the platform admin lists them.
    const listed = await admin('GET', '/api/sync-jobs?type=flavors&limit=5');
    expect(listed.status).toBe(200);
    expect(listed.body.jobs[0].id).toBe(requested.body.jobs[0].id);
    expect(listed.body.jobs.every((j: { resourceType: string }) => j.resourceType === 'flavors')).toBe(true);
  });

  it('checks a create against the synced catalog', async () => {
    const refused = await operator('POST', '/api/instances', { name: 'wrong-image', config: { provider: 'LOCAL', instanceType: 'local.small', image: 'windows-95' } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('UNKNOWN_IMAGE');
    expect(refused.body.error).toMatch(/image 'windows-95' is not in the catalog of LOCAL \(local\); available include: /);
  });

  it('finds a machine deleted behind its back (a ghost) and closes the record once the provider confirms it gone', async () => {
    const created = await operator('POST', '/api/instances', { name: 'ghost-box', config: { provider: 'LOCAL', instanceType: 'local.small' } });
    expect(created.status).toBe(202);
    const id = created.body.instance.id;
    const ready = await waitFor(`${id} to be READY`, async () => {
      const { body } = await viewer('GET', `/api/instances/${id}`);
      return body.instance.status === 'READY' ? body.instance : undefined;
    });

    // Delete the machine outside Hangar: its process, then (once the runtime has noticed the
    // exit and stopped writing its logs there) its whole directory.
    process.kill(ready.providerDetails.pid, 'SIGKILL');
    await waitFor(`${id} to be recorded as dead`, async () => {
      const { body } = await viewer('GET', `/api/instances/${id}`);
      return body.instance.status === 'ERROR' ? true : undefined;
    });
    await rm(dirname(ready.providerDetails.dataDir), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });

    const reconcile = async () => {
      const { body } = await operator('POST', '/api/sync', { provider: 'LOCAL', types: ['instances'] });
      return (await finished(viewer, [body.jobs[0].id]))[0];
    };
    const first = await reconcile();
    expect(first.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: id }));
    const second = await reconcile();
    expect(second.findings).toContainEqual(expect.objectContaining({ kind: 'ghost', outcome: 'marked-terminated', instanceId: id }));

    const after = await viewer('GET', `/api/instances/${id}`);
    expect(after.body.instance.status).toBe('TERMINATED');
    const events = await viewer('GET', `/api/instances/${id}/events`);
    const types = events.body.events.map((e: { type: string }) => e.type);
    expect(types).toContain('reconcile.ghost-found');
  });

  it('answers bad sync requests and foreign jobs with a clear 4xx', async () => {
    expect((await viewer('POST', '/api/sync', { provider: 'LOCAL' })).status).toBe(403);
    const bad = await operator('POST', '/api/sync', { provider: 'LOCAL', types: ['planets'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/types are flavors, images/);
    expect((await viewer('GET', '/api/sync-jobs/sync-nope')).status).toBe(404);
    const unknownKind = await viewer('GET', '/api/catalog/planets?provider=LOCAL');
    expect(unknownKind.status).toBe(400);
    expect(unknownKind.body.error).toMatch(/Unknown catalog 'planets'/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackDouble } from '../support/openstack-double.ts';
import { apiClient, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/**
 * An OPENSTACK account and instance driven through the local runtime, against an OpenStack
 * (Keystone, Nova, Glance, Neutron) double that follows the API reference.
 */
describe('an OPENSTACK instance through the local runtime', () => {
  let cloud: OpenStackDouble;
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;

  async function until(id: string, status: string) {
    return waitFor(
      `${id} to be ${status}`,
      async () => {
        const { body } = await api('GET', `/api/instances/${id}`);
        if (body.instance?.status === 'ERROR') throw new Error(`went to ERROR: ${body.instance.errorMessage}`);
        return body.instance?.status === status ? body.instance : undefined;
      },
      60_000,
    );
  }

  beforeAll(async () => {
    cloud = await OpenStackDouble.start({ buildReads: 2, transitionReads: 1 });
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'Cloud Customer' });
    const key = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'cloud admin', role: 'admin' });
    api = apiClient(runtime.url, key.body.apiKey.key);
  });

  afterAll(async () => {
    await runtime?.stop();
    await cloud?.close();
  });

  it('refuses an account whose password Keystone rejects, and stores a good one sealed', async () => {
    const refused = await api('POST', '/api/accounts', {
      provider: 'OPENSTACK',
      name: 'wrong',
      region: cloud.region,
      credentials: cloud.passwordCredentials({ password: 'not-it' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('CONNECTION_FAILED');
    expect(refused.body.error).toMatch(/Cannot connect to OpenStack at .*401/);

    const stored = await api('POST', '/api/accounts', { provider: 'OPENSTACK', name: 'lab', region: cloud.region, credentials: cloud.passwordCredentials() });
    expect(stored.status).toBe(201);
    expect(JSON.stringify(stored.body)).not.toContain('s3cret');
    // Read live through the adapter (the synced catalog is the sync's to test).
    const flavors = await api('GET', `/api/catalog/flavors?accountId=${stored.body.account.id}&source=live`);
    expect(flavors.status).toBe(200);
    expect(flavors.body.flavors.map((f: { name: string }) => f.name)).toContain('m1.small');
  });

  it('creates, stops, starts and terminates a Nova server by names, with the calls the cloud received', async () => {
    const accounts = await api('GET', '/api/accounts');
    const accountId = accounts.body.accounts[0].id;
    cloud.clearRequests();

    const created = await api('POST', '/api/instances', {
      name: 'nova-box',
      type: 'vps',
      config: { provider: 'OPENSTACK', accountId, instanceType: 'm1.small', image: 'cirros-0.6.2-x86_64-disk', networks: ['private'], keyPair: 'hangar-key' },
    });
    expect(created.status).toBe(202);
    const ready = await until(created.body.instance.id, 'READY');
    expect(ready.providerInstanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ready.privateIp).toMatch(/^10\.0\.0\./);
    const server = cloud.server(ready.providerInstanceId)!;
    expect(server.metadata['hangar:instance-id']).toBe(ready.id);

    expect((await api('POST', `/api/instances/${ready.id}/stop`)).status).toBe(202);
    await until(ready.id, 'STOPPED');
    expect(cloud.server(ready.providerInstanceId)!.status).toBe('SHUTOFF');
    // Every token the runtime holds expires (by the cloud's clock): it must renew, not fail.
    const issuedBefore = cloud.requestsTo('identity', 'POST').length;
    const sentBefore = cloud.requests.length;
    cloud.advanceClock(2 * 3_600_000);
    expect((await api('POST', `/api/instances/${ready.id}/start`)).status).toBe(202);
    await until(ready.id, 'READY');
    expect(cloud.server(ready.providerInstanceId)!.status).toBe('ACTIVE');
    expect(cloud.requestsTo('identity', 'POST').length).toBeGreaterThan(issuedBefore);
    // The expired token was refused (401) before it was renewed. Which service refused it first
    // depends on whether the start or one of the runtime's background polls called out first.
    expect(cloud.requests.slice(sentBefore).filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);

    // As in Nova, a deleted server lingers in task_state deleting for a while; the record may
    // say TERMINATED only once it is gone.
    cloud.deleteReads = 4;
    expect((await api('DELETE', `/api/instances/${ready.id}`)).status).toBe(202);
    for (;;) {
      const { body } = await api('GET', `/api/instances/${ready.id}`);
      const server = cloud.server(ready.providerInstanceId)!;
      if (body.instance.status === 'TERMINATED') {
        expect(server.deleted).toBe(true); // Nova keeps deleted records; the server itself is gone
        break;
      }
      expect(body.instance.status).toBe('TERMINATING');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const computeCalls = cloud.requestsTo('compute').map((r) => `${r.method} ${r.resource}`);
    expect(computeCalls).toContain('POST /servers');
    expect(computeCalls).toContain(`POST /servers/${ready.providerInstanceId}/action`);
    expect(computeCalls).toContain(`DELETE /servers/${ready.providerInstanceId}`);
    const actions = cloud.requestsTo('compute', 'POST').map((r) => Object.keys((r.body ?? {}) as object)[0]);
    expect(actions).toEqual(expect.arrayContaining(['server', 'os-stop', 'os-start']));
  });
});

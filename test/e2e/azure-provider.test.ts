import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureDouble } from '../support/azure-double.ts';
import { REPO_ROOT, apiClient, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/**
 * An AZURE account and instances driven through the local runtime, against a loopback double of
 * Microsoft Entra ID and Azure Resource Manager.
 */
describe('an AZURE instance through the local runtime', () => {
  let cloud: AzureDouble;
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;
  let accountId: string;
  let apiKey: string;

  async function until(id: string, status: string) {
    return waitFor(
      `${id} to be ${status}`,
      async () => {
        const { body } = await api('GET', `/api/instances/${id}`);
        if (body.instance?.status === 'ERROR' && status !== 'ERROR') throw new Error(`went to ERROR: ${body.instance.errorMessage}`);
        return body.instance?.status === status ? body.instance : undefined;
      },
      60_000,
    );
  }

  const empty = () => Object.values(cloud.inventory()).every((names) => names.length === 0);

  beforeAll(async () => {
    cloud = await AzureDouble.start();
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'Azure Customer' });
    const key = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'azure admin', role: 'admin' });
    apiKey = key.body.apiKey.key;
    api = apiClient(runtime.url, apiKey);
  });

  afterAll(async () => {
    await runtime?.stop();
    await cloud?.close();
  });

  it('refuses a wrong secret and a plain-http endpoint off loopback, and stores a good account sealed', async () => {
    const wrong = await api('POST', '/api/accounts', { provider: 'AZURE', name: 'wrong', region: 'eastus', credentials: cloud.credentials({ clientSecret: 'not-it' }) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('CONNECTION_FAILED');
    expect(wrong.body.error).toMatch(/Cannot connect to Azure .*AADSTS7000215/);

    cloud.clearRequests();
    const insecure = await api('POST', '/api/accounts', {
      provider: 'AZURE',
      name: 'insecure',
      credentials: cloud.credentials({ cloud: { resourceManagerEndpoint: 'http://management.example.com', authorityHost: 'http://login.example.com' } }),
    });
    expect(insecure.status).toBe(400);
    expect(JSON.stringify(insecure.body)).toMatch(/must use https/);
    expect(cloud.tokenRequests).toHaveLength(0);

    const stored = await api('POST', '/api/accounts', { provider: 'AZURE', name: 'lab', credentials: cloud.credentials() });
    expect(stored.status).toBe(201);
    expect(stored.body.account.region).toBe('eastus');
    expect(JSON.stringify(stored.body)).not.toContain(cloud.clientSecret);
    accountId = stored.body.account.id;
  });

  it('refuses a retired size with its current equivalent', async () => {
    const created = await api('POST', '/api/instances', { name: 'old-gpu', type: 'gpu', config: { provider: 'AZURE', accountId, instanceType: 'Standard_NC6' } });

    expect(created.status).toBe(400);
    expect(created.body.code).toBe('INSTANCE_TYPE_RETIRED');
    expect(created.body.error).toMatch(/Standard_NC6 .*retired.*use Standard_NC4as_T4_v3/);
  });

  it('creates a VM once despite a lost answer, stops (deallocates), starts, reboots and terminates it with nothing left', async () => {
    cloud.dropNextResponse('PUT', /virtualMachines\//);
    const created = await api('POST', '/api/instances', {
      name: 'gpu-box',
      type: 'gpu',
      config: { provider: 'AZURE', accountId, instanceType: 'Standard_NC4as_T4_v3', image: 'Ubuntu2204', securityGroups: ['hangar-nsg'] },
    });
    expect(created.status).toBe(202);
    expect(created.body.instance.costPerHourMicros).toBe(526_000);
    const ready = await until(created.body.instance.id, 'READY');
    expect(ready.providerInstanceId).toMatch(new RegExp(`/virtualMachines/${ready.id}$`));
    expect(ready.privateIp).toMatch(/^10\.0\.0\./);
    expect(ready.publicIp).toMatch(/^20\./);
    expect(cloud.inventory().vms).toEqual([ready.id]);
    expect(cloud.vm(ready.id)!.tags['hangar:instance-id']).toBe(ready.id);

    expect((await api('POST', `/api/instances/${ready.id}/stop`)).status).toBe(202);
    await until(ready.id, 'STOPPED');
    expect(cloud.vm(ready.id)!.power).toBe('deallocated');
    expect((await api('POST', `/api/instances/${ready.id}/start`)).status).toBe(202);
    await until(ready.id, 'READY');
    expect(cloud.vm(ready.id)!.power).toBe('running');
    expect((await api('POST', `/api/instances/${ready.id}/reboot`)).status).toBe(202);
    await until(ready.id, 'READY');
    expect(cloud.armRequests('POST', /\/restart$/)).toHaveLength(1);

    expect((await api('DELETE', `/api/instances/${ready.id}`)).status).toBe(202);
    await until(ready.id, 'TERMINATED');
    await waitFor('the VM, NIC, public IP and disk to be gone', async () => (empty() ? true : undefined), 10_000);
  });

  it('ends in ERROR with a readable message when Azure cannot allocate, leaving nothing behind', async () => {
    cloud.failCreates({ mode: 'async', code: 'AllocationFailed', message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.' });
    try {
      const created = await api('POST', '/api/instances', { name: 'no-capacity', type: 'gpu', config: { provider: 'AZURE', accountId, instanceType: 'Standard_NC24ads_A100_v4' } });
      expect(created.status).toBe(202);

      const failed = await until(created.body.instance.id, 'ERROR');

      expect(failed.errorMessage).toMatch(/^Azure could not create the VM: Allocation failed.*\(AllocationFailed\)\. Azure has no capacity for this size in this region right now/);
      await waitFor('nothing left at Azure', async () => (empty() ? true : undefined), 10_000);
    } finally {
      cloud.failCreates(undefined);
    }
  });

  it('registers an Azure account and creates on it from the CLI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-azure-cli-'));
    const file = join(dir, 'azure-sp.json');
    await writeFile(file, JSON.stringify(cloud.credentials()));
    const hangar = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['cli/bin.js', '--json', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, HANGAR_URL: runtime.url, HANGAR_API_KEY: apiKey },
        timeout: 60_000,
      });

    const account = JSON.parse((await hangar('create', 'account', 'from-cli', '--provider', 'AZURE', '--credentials', file)).stdout);
    const created = JSON.parse(
      (await hangar('create', 'instance', 'cli-gpu', 'gpu', '--provider', 'AZURE', '--account', account.account.id, '--instance-type', 'Standard_NC4as_T4_v3')).stdout,
    );

    expect(account.account).toMatchObject({ provider: 'AZURE', region: 'eastus' });
    expect(created.instance).toMatchObject({ provider: 'AZURE', instanceType: 'Standard_NC4as_T4_v3' });
    await until(created.instance.id, 'READY');
    expect((await api('DELETE', `/api/instances/${created.instance.id}`)).status).toBe(202);
    await until(created.instance.id, 'TERMINATED');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { AzureProvider, type AzureProviderOptions } from '../../shared/adapters/azure/azure-provider.ts';
import { vmStateOf } from '../../shared/adapters/azure/azure-states.ts';
import { azureErrorCode, kindOfAzureError } from '../../shared/adapters/azure/azure-errors.ts';
import { checkEndpoint, isLoopbackHost } from '../../shared/adapters/azure/azure-credentials.ts';
import type { ComputeProvider, LaunchSpec } from '../../shared/ports/compute-provider.ts';
import { AzureDouble, type AzureDoubleOptions } from '../support/azure-double.ts';
import { contractInstanceId, launchUntilRunning, providerRejection, refOf, runComputeProviderContract, waitForState } from './compute-provider.contract.ts';

const FAST = { stateTimeoutMs: 5000, pollMs: 10 };

function azureSpec(instanceId: string, region: string, overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-contract',
    name: 'contract',
    instanceType: 'Standard_NC4as_T4_v3',
    region,
    image: 'Ubuntu2204',
    resources: { cpu: 4, memory: 28 },
    tags: { suite: 'contract' },
    ...overrides,
  };
}

runComputeProviderContract(
  'AZURE',
  async () => {
    const cloud = await AzureDouble.start();
    const provider = new AzureProvider({ region: cloud.location, credentials: cloud.credentials() });
    return { provider, spec: (instanceId) => azureSpec(instanceId, cloud.location), cleanup: () => cloud.close() };
  },
  FAST,
);

describe('AzureProvider', () => {
  const clouds: AzureDouble[] = [];

  afterEach(async () => {
    await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
  });

  async function setup(
    cloudOptions: AzureDoubleOptions = {},
    providerOptions: Partial<AzureProviderOptions> = {},
  ): Promise<{ cloud: AzureDouble; provider: AzureProvider }> {
    const cloud = await AzureDouble.start(cloudOptions);
    clouds.push(cloud);
    const provider = new AzureProvider({ region: cloud.location, credentials: cloud.credentials(), ...providerOptions });
    return { cloud, provider };
  }

  const launchRunning = (provider: ComputeProvider, region: string, overrides: Partial<LaunchSpec> = {}) =>
    launchUntilRunning(provider, azureSpec(contractInstanceId('az'), region, overrides), FAST);

  describe('launch', () => {
    it('creates one VM named from the Hangar id, tagged as Hangar\'s, with NIC and public IP deleted with it', async () => {
      const { cloud, provider } = await setup();
      const spec = azureSpec(contractInstanceId('shape'), cloud.location, { securityGroups: ['hangar-nsg'], keyPair: 'hangar-key', diskSizeGB: 64 });

      const machine = await provider.launch(spec);

      expect(machine.providerInstanceId).toBe(`/subscriptions/${cloud.subscriptionId}/resourceGroups/${cloud.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${spec.instanceId}`);
      const [put] = cloud.armRequests('PUT', /virtualMachines/);
      const body = put!.body as { tags: Record<string, string>; properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(body.tags).toMatchObject({ 'hangar:instance-id': spec.instanceId, 'hangar:client-id': 'client-contract', suite: 'contract' });
      const nic = body.properties.networkProfile.networkInterfaceConfigurations[0];
      expect(nic.properties.deleteOption).toBe('Delete');
      expect(nic.properties.networkSecurityGroup.id).toMatch(/networkSecurityGroups\/hangar-nsg$/);
      const ip = nic.properties.ipConfigurations[0].properties;
      expect(ip.subnet.id).toMatch(/virtualNetworks\/hangar-vnet\/subnets\/default$/);
      expect(ip.publicIPAddressConfiguration.properties.deleteOption).toBe('Delete');
      expect(body.properties.storageProfile.osDisk).toMatchObject({ deleteOption: 'Delete', diskSizeGB: 64 });
      expect(body.properties.storageProfile.imageReference).toEqual({ publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' });
      expect(body.properties.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData).toContain('hangar@double');

      const running = await waitForState(provider, refOf(machine, spec), ['running'], FAST);
      expect(running.privateIp).toMatch(/^10\.0\.0\./);
      expect(running.publicIp).toMatch(/^20\./);
    });

    it('returns before the create completes: the long-running operation is begun, never awaited', async () => {
      const { cloud, provider } = await setup({ transitionMs: 60_000 });
      const spec = azureSpec(contractInstanceId('lro'), cloud.location);

      const machine = await provider.launch(spec);

      expect(machine.state).toBe('pending');
      expect(cloud.armRequests('GET', /operations/)).toHaveLength(0);
      expect((await provider.describe(refOf(machine, spec)))?.state).toBe('pending');
    });

    it('makes one VM when a launch is retried after its answer was lost', async () => {
      const { cloud, provider } = await setup({}, { maxRetries: 0 });
      const spec = azureSpec(contractInstanceId('lost'), cloud.location);
      cloud.dropNextResponse('PUT', /virtualMachines\//);

      const lost = await providerRejection(provider.launch(spec));
      expect(lost.kind).toBe('transient');
      const again = await provider.launch(spec);

      expect(cloud.inventory().vms).toEqual([spec.instanceId]);
      expect(cloud.armRequests('PUT', /virtualMachines\//)).toHaveLength(1); // found by name, not created again
      expect(again.providerInstanceId).toMatch(new RegExp(`/virtualMachines/${spec.instanceId}$`));
    });

    it('refuses to take over a VM of the same name that is not marked for the instance', async () => {
      const { cloud, provider } = await setup();
      const { spec } = await launchRunning(provider, cloud.location);

      cloud.vm(spec.instanceId)!.tags['hangar:instance-id'] = 'vps-someone-else-000000';

      const error = await providerRejection(provider.launch(spec));

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toMatch(/already exists .* marked for Hangar instance vps-someone-else-000000/);
    });

    it('maps AllocationFailed answered at once to a capacity error a person can act on', async () => {
      const { cloud, provider } = await setup();
      cloud.failCreates({ mode: 'sync', status: 409, code: 'AllocationFailed', message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.', times: 1 });

      const error = await providerRejection(provider.launch(azureSpec(contractInstanceId('alloc'), cloud.location)));

      expect(error.kind).toBe('capacity');
      expect(error.message).toMatch(/sufficient capacity.*\(AllocationFailed\)\. Azure has no capacity for this size in this region right now/);
      expect(cloud.inventory().vms).toEqual([]);
    });

    it('reports an AllocationFailed found after the create was accepted as an error with the reason, and terminate leaves nothing', async () => {
      const { cloud, provider } = await setup();
      cloud.failCreates({ mode: 'async', code: 'AllocationFailed', message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.' });
      const spec = azureSpec(contractInstanceId('alloc-async'), cloud.location);

      const ref = refOf(await provider.launch(spec), spec);
      const failed = await waitForState(provider, ref, ['error'], FAST);
      await provider.terminate(ref);

      expect(failed.reason).toMatch(/^Azure could not create the VM: Allocation failed.*\(AllocationFailed\)\. Azure has no capacity/);
      await waitUntil(() => isEmpty(cloud.inventory()));
    });

    it('maps SkuNotAvailable, ZonalAllocationFailed and quota refusals', async () => {
      const { cloud, provider } = await setup();
      const sku = await providerRejection(provider.launch(azureSpec(contractInstanceId('sku'), cloud.location, { instanceType: 'Standard_NC6' })));
      expect(sku.kind).toBe('invalid-request');
      expect(sku.message).toMatch(/SkuNotAvailable.*Pick another size or region/);

      cloud.failCreates({ mode: 'sync', code: 'OperationNotAllowed', message: 'Operation could not be completed as it results in exceeding approved standardNCASv3_T4Family Cores quota. Location: eastus, Current Limit: 0.', times: 1 });
      const quota = await providerRejection(provider.launch(azureSpec(contractInstanceId('quota'), cloud.location)));
      expect(quota.kind).toBe('capacity');
      expect(quota.message).toMatch(/exceeding approved .* quota.*Usage \+ quotas/);

      cloud.failCreates({ mode: 'sync', code: 'ZonalAllocationFailed', message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this zone.', times: 1 });
      const zonal = await providerRejection(provider.launch(azureSpec(contractInstanceId('zonal'), cloud.location)));
      expect(zonal.kind).toBe('capacity');
      expect(zonal.message).toMatch(/another zone/);

      cloud.failCreates({ mode: 'sync', code: 'QuotaExceeded', message: 'Quota exceeded for standardNCADSA100v4Family.', times: 1 });
      expect((await providerRejection(provider.launch(azureSpec(contractInstanceId('quota2'), cloud.location)))).kind).toBe('capacity');
    });
  });

  describe('lifecycle', () => {
    it('stops by deallocating, and starts again', async () => {
      const { cloud, provider } = await setup();
      const { ref, spec } = await launchRunning(provider, cloud.location);

      await provider.stop(ref);
      const stopped = await waitForState(provider, ref, ['stopped'], FAST);
      await provider.start(ref);
      await waitForState(provider, ref, ['running'], FAST);

      expect(cloud.armRequests('POST', new RegExp(`${spec.instanceId}/deallocate$`))).toHaveLength(1);
      expect(cloud.armRequests('POST', /powerOff$/)).toHaveLength(0);
      expect(stopped.details?.powerState).toBe('deallocated');
    });

    it('tells a VM powered off from inside (still billed) from a deallocated one', () => {
      const state = vmStateOf('Succeeded', [{ code: 'ProvisioningState/succeeded' }, { code: 'PowerState/stopped' }]);
      expect(state.state).toBe('stopped');
      expect(state.reason).toMatch(/still allocated.*billing/);
      expect(vmStateOf('Deleting', []).state).toBe('terminated');
      expect(vmStateOf('Creating', []).state).toBe('pending');
    });

    it('refuses a restart of a deallocated VM with Azure\'s reason', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.location);
      await provider.stop(ref);
      await waitForState(provider, ref, ['stopped'], FAST);

      const error = await providerRejection(provider.reboot(ref));

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toMatch(/restart.*not allowed.*deallocated/);
    });

    it('deletes the VM with its NIC, public IP and OS disk', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.location);
      expect(cloud.inventory().nics).toHaveLength(1);

      await provider.terminate(ref);

      expect(await provider.describe(ref)).toBeNull();
      await waitUntil(() => isEmpty(cloud.inventory()));
    });

    it('deletes what a VM deleted by hand left behind', async () => {
      // Transitions slow enough that the NIC is surely still being deleted when the public IP's
      // delete follows it, however loaded the machine running the test.
      const { cloud, provider } = await setup({ transitionMs: 1000 });
      const { ref, spec } = await launchRunning(provider, cloud.location);
      cloud.deleteVmByHand(spec.instanceId);

      // The public IP is still attached to the NIC being deleted: Azure refuses it until then.
      const first = await providerRejection(provider.terminate(ref));
      await waitUntil(() => cloud.inventory().nics.length === 0);
      await provider.terminate(ref);

      expect(first.kind).toBe('transient');
      await waitUntil(() => isEmpty(cloud.inventory()));
      expect(cloud.armRequests('DELETE', /networkInterfaces\//)).toHaveLength(1);
      expect(cloud.armRequests('DELETE', /publicIPAddresses\//)).toHaveLength(1);
      expect(cloud.armRequests('DELETE', /disks\//)).toHaveLength(1);
    });

    it('refuses to delete a VM that is not marked for the instance', async () => {
      const { cloud, provider } = await setup();
      const { ref } = await launchRunning(provider, cloud.location);

      const error = await providerRejection(provider.terminate({ ...ref, instanceId: 'vps-other-abc123' }));

      expect(error.message).toMatch(/refusing to delete/);
      expect(cloud.armRequests('DELETE')).toHaveLength(0);
    });

    it('lists only the VMs of its deployment', async () => {
      const { cloud } = await setup();
      const blue = new AzureProvider({ region: cloud.location, credentials: cloud.credentials(), deployment: 'blue' });
      const green = new AzureProvider({ region: cloud.location, credentials: cloud.credentials(), deployment: 'green' });
      const { spec } = await launchRunning(blue, cloud.location);

      expect((await blue.listOwned()).map((m) => m.instanceId)).toEqual([spec.instanceId]);
      expect(await green.listOwned()).toEqual([]);
    });
  });

  describe('throttling and errors', () => {
    it('waits out a 429 Retry-After and succeeds', async () => {
      const { cloud, provider } = await setup();
      cloud.throttleNext(1, 1);
      const started = Date.now();

      const owned = await provider.listOwned();

      expect(owned).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(cloud.armRequests().filter((r) => r.status === 429)).toHaveLength(1);
    });

    it('answers throttled at once when Azure asks for a longer wait than one call may take', async () => {
      const { cloud, provider } = await setup({}, { maxRetryAfterMs: 2000 });
      cloud.throttleNext(1, 120);

      const error = await providerRejection(provider.listOwned());

      expect(error.kind).toBe('throttled');
      expect(error.message).toMatch(/asks to wait 120 s/);
    });

    it('maps Azure codes and statuses onto the workflow\'s kinds', () => {
      const rest = (code: string, statusCode: number, message = '') => Object.assign(new Error(message), { name: 'RestError', code, statusCode });
      expect(kindOfAzureError(rest('AuthorizationFailed', 403))).toBe('auth');
      expect(kindOfAzureError(rest('ResourceNotFound', 404))).toBe('not-found');
      expect(kindOfAzureError(rest('InternalServerError', 500))).toBe('transient');
      expect(kindOfAzureError(rest('TooManyRequests', 429))).toBe('throttled');
      expect(kindOfAzureError(rest('OperationNotAllowed', 409, 'exceeding approved quota'))).toBe('capacity');
      expect(kindOfAzureError(rest('OperationNotAllowed', 409, 'VM is deallocated'))).toBe('invalid-request');
      expect(azureErrorCode(Object.assign(new Error('x'), { name: 'AuthenticationError' }))).toBe('AuthenticationFailed');
    });
  });

  describe('accounts', () => {
    it('tests the connection by listing the resource group', async () => {
      const { cloud, provider } = await setup();

      await provider.testConnection();

      expect(cloud.tokenRequests.some((r) => r.method === 'POST')).toBe(true);
      expect(cloud.armRequests('GET', new RegExp(`/resourceGroups/${cloud.resourceGroup}/providers/Microsoft.Compute/virtualMachines$`))).toHaveLength(1);
    });

    it('explains a refused secret and a missing resource group', async () => {
      const { cloud } = await setup();
      const wrongSecret = new AzureProvider({ region: cloud.location, credentials: cloud.credentials({ clientSecret: 'not-it' }) });
      const wrongGroup = new AzureProvider({ region: cloud.location, credentials: cloud.credentials({ resourceGroup: 'nope' }) });

      const secret = await providerRejection(wrongSecret.testConnection());
      const group = await providerRejection(wrongGroup.testConnection());

      expect(secret.kind).toBe('auth');
      expect(secret.message).toMatch(/^Cannot connect to Azure .*AADSTS7000215: Invalid client secret/);
      expect(group.message).toMatch(/^Cannot connect to Azure \(subscription .*, resource group nope\): Azure answered 404 \(ResourceGroupNotFound\)\. Create the resource group/);
    });

    it('refuses plain http to anything but a loopback host before any secret is sent', async () => {
      const { cloud } = await setup();

      const build = () =>
        new AzureProvider({
          region: cloud.location,
          credentials: cloud.credentials({ cloud: { resourceManagerEndpoint: 'http://management.example.com', authorityHost: 'http://login.example.com' } }),
        });

      expect(build).toThrow(/must use https/);
      expect(cloud.tokenRequests).toHaveLength(0);
      expect(() => checkEndpoint('authorityHost', 'http://10.0.0.5')).toThrow(/https/);
      expect(checkEndpoint('authorityHost', 'http://127.0.0.1:8443/')).toBe('http://127.0.0.1:8443');
      expect(checkEndpoint('authorityHost', 'https://login.microsoftonline.us')).toBe('https://login.microsoftonline.us');
      expect([isLoopbackHost('localhost'), isLoopbackHost('[::1]'), isLoopbackHost('127.9.0.1'), isLoopbackHost('128.0.0.1')]).toEqual([true, true, true, false]);
    });

    it('lists sizes with prices, images, networks, subnets, security groups and key pairs', async () => {
      const { cloud, provider } = await setup();

      const flavors = await provider.listCatalog('flavors');
      const images = await provider.listCatalog('images');
      const subnets = await provider.listCatalog('subnets');

      expect(flavors.find((f) => f.name === 'Standard_NC4as_T4_v3')).toMatchObject({ hourlyMicros: 526_000, attributes: { vcpus: 4, gpus: 1 } });
      expect(images.map((i) => i.id)).toContain('Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest');
      expect(subnets.map((s) => s.name)).toEqual(['hangar-vnet/default']);
      expect((await provider.listCatalog('networks')).map((n) => n.name)).toEqual(['hangar-vnet']);
      expect((await provider.listCatalog('securityGroups')).map((g) => g.name)).toEqual(['hangar-nsg']);
      expect((await provider.listCatalog('keyPairs')).map((k) => k.name)).toEqual(['hangar-key']);
      expect(cloud.armRequests('GET', /vmSizes$/)).toHaveLength(1);
    });
  });
});

const isEmpty = (inventory: Record<string, string[]>) => Object.values(inventory).every((names) => names.length === 0);

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

import { ComputeManagementClient, type VirtualMachine } from '@azure/arm-compute';
import { NetworkManagementClient, type VirtualNetwork } from '@azure/arm-network';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { ClientSecretCredential } from '@azure/identity';
import { ProviderError } from '../../domain/errors.ts';
import type { CatalogItem, CatalogKind, ComputeProvider, LaunchSpec, Machine, MachineRef } from '../../ports/compute-provider.ts';
import { customImageItem, flavorItem, keyPairItem, marketplaceImageItems, networkItem, securityGroupItem, subnetItem } from './azure-catalog.ts';
import { armScope, asHttps, toAzureCredentials, type AzureCredentials } from './azure-credentials.ts';
import { explainedProviderError, isNotFound, kindOfAzureError, toProviderError } from './azure-errors.ts';
import {
  checkAzureLaunchSpec,
  DEPLOYMENT_TAG,
  imageReferenceOf,
  OWNER_TAG,
  resourceNames,
  throwawaySshPublicKey,
  virtualMachineFor,
  type ResolvedPlacement,
} from './azure-launch.ts';
import { vmStateOf } from './azure-states.ts';
import { loopbackHttpClient, plainHttpHostsOf } from './loopback-http-client.ts';

export { toAzureCredentials, type AzureCredentials } from './azure-credentials.ts';

export interface AzureProviderOptions {
  /** The Azure region (location), e.g. eastus. */
  region: string;
  /** The account's credentials, nested (`cloud: {…}`) or as stored (flat). */
  credentials: AzureCredentials | Record<string, unknown>;
  /**
   * The Hangar deployment (stage) this adapter acts for: stamped on every VM as
   * `hangar:deployment`, and listOwned() sees only VMs that carry it. Unset, every VM with
   * Hangar's mark in the resource group is listed.
   */
  deployment?: string;
  /** The longest Retry-After a throttled call waits out in place (default 10 s); longer → 'throttled' at once. */
  maxRetryAfterMs?: number;
  /** How many times the SDK sends a throttled or failed request again within one call (default 3). */
  maxRetries?: number;
}

/** Authority hosts Microsoft Entra ID's instance discovery knows; any other is a custom one (Azure Stack, a double). */
const KNOWN_AUTHORITY_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn']);
const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;
const VM_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;
const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/**
 * The AZURE provider: one VM per instance in the account's resource group, through Azure
 * Resource Manager with the official SDK (arm-compute, arm-network, identity).
 *
 * - Idempotent launch: the VM is named from Hangar's id. Azure has no client token, so launch()
 *   reads the VM by name first and returns it when it exists (marked for the same instance);
 *   a create that does run is a PUT by name, which Azure itself never doubles.
 * - Ownership: VM tags `hangar:instance-id`, `hangar:client-id`, `hangar:deployment` (when
 *   given) plus the instance's tags; listOwned() finds VMs by them.
 * - Network: the NIC and a Standard static public IP are declared inside the VM
 *   (networkInterfaceConfigurations) and created with it; NIC, public IP and OS disk carry
 *   deleteOption Delete, so deleting the VM deletes them.
 * - Long-running operations (create, deallocate, start, restart, delete) are begun and not
 *   awaited: each call returns once Azure accepted it, and the workflow's poll loop reads
 *   describe() until the VM gets there.
 * - stop() deallocates: compute billing stops (the disk is still billed). A VM powered off
 *   from inside (still allocated, still billed) reads `stopped` with a reason saying so.
 */
export class AzureProvider implements ComputeProvider {
  readonly name = 'AZURE' as const;
  readonly region: string;
  readonly compute: ComputeManagementClient;
  readonly network: NetworkManagementClient;
  private readonly credentials: AzureCredentials;
  private readonly deployment: string | undefined;
  private readonly launching = new Map<string, Promise<Machine>>();

  constructor(options: AzureProviderOptions) {
    this.region = options.region;
    this.deployment = options.deployment;
    this.credentials = toAzureCredentials(options.credentials as Record<string, unknown>);
    const { cloud } = this.credentials;
    const plain = plainHttpHostsOf([cloud.resourceManagerEndpoint, cloud.authorityHost]);
    const httpClient = plain.size > 0 ? loopbackHttpClient(plain) : undefined;
    const authorityHost = asHttps(cloud.authorityHost);
    let credential: ClientSecretCredential;
    try {
      credential = new ClientSecretCredential(this.credentials.tenantId, this.credentials.clientId, this.credentials.clientSecret, {
        authorityHost,
        disableInstanceDiscovery: !KNOWN_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname),
        ...(httpClient ? { httpClient } : {}),
      });
    } catch (error) {
      throw new ProviderError(`Azure refused the account's credentials: ${error instanceof Error ? error.message : String(error)}`, 'invalid-request');
    }
    const clientOptions = {
      endpoint: asHttps(cloud.resourceManagerEndpoint),
      credentials: { scopes: [armScope(cloud.resourceManagerEndpoint)] },
      retryOptions: { maxRetries: options.maxRetries ?? 3 },
      additionalPolicies: [{ policy: retryAfterCap(options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS), position: 'perRetry' as const }],
      ...(httpClient ? { httpClient } : {}),
    };
    this.compute = new ComputeManagementClient(credential, this.credentials.subscriptionId, clientOptions);
    this.network = new NetworkManagementClient(credential, this.credentials.subscriptionId, clientOptions);
  }

  private get resourceGroup(): string {
    return this.credentials.resourceGroup;
  }

  checkLaunchSpec(spec: LaunchSpec): void {
    checkAzureLaunchSpec(spec, this.region, this.deployment);
  }

  /** Concurrent launches of one instance in this process share one attempt. */
  launch(spec: LaunchSpec): Promise<Machine> {
    const running = this.launching.get(spec.instanceId);
    if (running) return running;
    const attempt = this.launchOnce(spec).finally(() => this.launching.delete(spec.instanceId));
    this.launching.set(spec.instanceId, attempt);
    return attempt;
  }

  private async launchOnce(spec: LaunchSpec): Promise<Machine> {
    this.checkLaunchSpec(spec);
    const vmName = spec.instanceId;
    const doing = `launch ${spec.instanceId} as ${spec.instanceType} in ${this.region}`;
    const existing = await this.call(doing, () => this.getVm(vmName));
    if (existing) {
      const owner = existing.tags?.[OWNER_TAG];
      if (owner !== spec.instanceId) {
        throw new ProviderError(
          `Could not ${doing}: a VM named ${vmName} already exists in resource group ${this.resourceGroup} and is ${owner ? `marked for Hangar instance ${owner}` : 'not marked as Hangar\'s'}`,
          'invalid-request',
        );
      }
      const machine = this.machineOf(existing);
      if (machine.state === 'terminated') {
        throw new ProviderError(`Could not ${doing}: the VM of an earlier attempt is still being deleted; try again once it is gone`, 'transient');
      }
      return machine;
    }
    const placement = await this.placementFor(spec, doing);
    const image = imageReferenceOf(spec.image, this.credentials.subscriptionId, this.resourceGroup);
    const body = virtualMachineFor(spec, placement, image, this.deployment);
    // Begun, not awaited: Azure answers 201 at once and creates the VM, NIC and IP behind it.
    await this.call(doing, () => this.compute.virtualMachines.beginCreateOrUpdate(this.resourceGroup, vmName, body));
    return { providerInstanceId: this.vmId(vmName), instanceId: spec.instanceId, state: 'pending', details: { vmSize: spec.instanceType } };
  }

  async describe(ref: MachineRef): Promise<Machine | null> {
    this.checkRegion(ref.region);
    const vmName = this.vmNameOf(ref);
    if (!vmName) return null;
    const vm = await this.call(`describe ${label(ref)}`, () => this.getVm(vmName));
    if (!vm) return null;
    const machine = this.machineOf(vm);
    if (machine.state === 'terminated') return null;
    return { ...machine, ...(await this.addressesOf(vm)) };
  }

  async listOwned(): Promise<Machine[]> {
    const machines: Machine[] = [];
    await this.call(`list Hangar's VMs in resource group ${this.resourceGroup}`, async () => {
      for await (const vm of this.compute.virtualMachines.list(this.resourceGroup, { expand: 'instanceView' })) {
        if (!this.owns(vm)) continue;
        const machine = this.machineOf(vm);
        if (machine.state !== 'terminated') machines.push(machine);
      }
    });
    return machines;
  }

  /** Deallocate: the VM stops and its compute billing with it; deallocating a deallocated VM succeeds. */
  async stop(ref: MachineRef, _options?: { force?: boolean }): Promise<void> {
    await this.act(ref, 'stop (deallocate)', (name) => this.compute.virtualMachines.beginDeallocate(this.resourceGroup, name));
  }

  async start(ref: MachineRef): Promise<void> {
    await this.act(ref, 'start', (name) => this.compute.virtualMachines.beginStart(this.resourceGroup, name));
  }

  /** Restart. Azure has no forced restart; `hard` sends the same restart. */
  async reboot(ref: MachineRef, _options?: { hard?: boolean }): Promise<void> {
    await this.act(ref, 'restart', (name) => this.compute.virtualMachines.beginRestart(this.resourceGroup, name));
  }

  /**
   * Begin deleting the VM (its NIC, public IP and OS disk go with it: deleteOption Delete). The VM
   * must carry this instance's mark: a wrong providerInstanceId must never delete somebody
   * else's VM. Once the VM is gone, a NIC, public IP or disk named after it that is still there
   * (a VM deleted by hand without its deleteOptions) is deleted too.
   */
  async terminate(ref: MachineRef): Promise<void> {
    this.checkRegion(ref.region);
    const vmName = this.vmNameOf(ref);
    if (!vmName) return;
    const doing = `terminate ${label(ref)}`;
    const vm = await this.call(doing, () => this.getVm(vmName));
    if (!vm) {
      await this.releaseLeftovers(vmName, ref.instanceId, doing);
      return;
    }
    if (vm.provisioningState?.toLowerCase() === 'deleting') return;
    const owner = vm.tags?.[OWNER_TAG];
    if (owner !== ref.instanceId) {
      throw new ProviderError(
        `Azure VM ${vmName} is marked ${owner ? `for Hangar instance ${owner}` : 'as not launched by Hangar'}, not for ${ref.instanceId}; refusing to delete it`,
        'fatal',
      );
    }
    try {
      await this.compute.virtualMachines.beginDelete(this.resourceGroup, vmName);
    } catch (error) {
      if (isNotFound(error)) return;
      throw toProviderError(error, doing);
    }
  }

  /** Lists the resource group's VMs: proves the secret, the tenant, the subscription, the group and the role. */
  async testConnection(): Promise<void> {
    const where = `Cannot connect to Azure (subscription ${this.credentials.subscriptionId}, resource group ${this.resourceGroup})`;
    try {
      await this.compute.virtualMachines.list(this.resourceGroup).byPage().next();
    } catch (error) {
      throw explainedProviderError(where, error);
    }
  }

  async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    const region = this.region;
    const rg = this.resourceGroup;
    const doing = `list ${kind} in ${region}`;
    return this.call(doing, async () => {
      switch (kind) {
        case 'flavors':
          return collect(this.compute.virtualMachineSizes.list(region), (size) => flavorItem(size, region));
        case 'images':
          return [...marketplaceImageItems(region), ...(await collect(this.compute.images.listByResourceGroup(rg), (image) => customImageItem(image, region)))];
        case 'networks':
          return collect(this.network.virtualNetworks.list(rg), (vnet) => networkItem(vnet, region));
        case 'subnets': {
          const items: CatalogItem[] = [];
          for await (const vnet of this.network.virtualNetworks.list(rg)) {
            for (const subnet of vnet.subnets ?? []) {
              const item = subnetItem(subnet, vnet, region);
              if (item) items.push(item);
            }
          }
          return items;
        }
        case 'securityGroups':
          return collect(this.network.networkSecurityGroups.list(rg), (group) => securityGroupItem(group, region));
        case 'keyPairs':
          return collect(this.compute.sshPublicKeys.listByResourceGroup(rg), (key) => keyPairItem(key, region));
      }
    });
  }

  /** The VM with its instance view; null when Azure has no VM of that name. */
  private async getVm(vmName: string): Promise<VirtualMachine | null> {
    try {
      return await this.compute.virtualMachines.get(this.resourceGroup, vmName, { expand: 'instanceView' });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private owns(vm: VirtualMachine): boolean {
    const tags = vm.tags ?? {};
    return typeof tags[OWNER_TAG] === 'string' && (!this.deployment || tags[DEPLOYMENT_TAG] === this.deployment);
  }

  private machineOf(vm: VirtualMachine): Machine {
    const { state, powerState, provisioningState, reason } = vmStateOf(vm.provisioningState, vm.instanceView?.statuses ?? []);
    const owner = vm.tags?.[OWNER_TAG];
    const details: Record<string, string | number> = {};
    if (vm.hardwareProfile?.vmSize) details.vmSize = vm.hardwareProfile.vmSize;
    if (powerState) details.powerState = powerState;
    if (provisioningState) details.provisioningState = provisioningState;
    if (vm.vmId) details.vmId = vm.vmId;
    return {
      providerInstanceId: vm.id ?? this.vmId(vm.name ?? ''),
      ...(owner ? { instanceId: owner } : {}),
      state,
      details,
      ...(reason ? { reason } : {}),
    };
  }

  /** The primary NIC's private IP and its public IP's address (two reads; either may not exist yet). */
  private async addressesOf(vm: VirtualMachine): Promise<Pick<Machine, 'privateIp' | 'publicIp'>> {
    const nics = vm.networkProfile?.networkInterfaces ?? [];
    const nicId = (nics.find((nic) => nic.primary) ?? nics[0])?.id;
    if (!nicId) return {};
    const nicName = nicId.split('/').pop()!;
    const nic = await this.network.networkInterfaces.get(this.resourceGroup, nicName).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw toProviderError(error, `read the network interface ${nicName}`);
    });
    const ipConfig = nic?.ipConfigurations?.find((config) => config.primary) ?? nic?.ipConfigurations?.[0];
    const privateIp = ipConfig?.privateIPAddress;
    const publicIpId = ipConfig?.publicIPAddress?.id;
    let publicIp: string | undefined;
    if (publicIpId) {
      const ipName = publicIpId.split('/').pop()!;
      const address = await this.network.publicIPAddresses.get(this.resourceGroup, ipName).catch((error: unknown) => {
        if (isNotFound(error)) return null;
        throw toProviderError(error, `read the public IP ${ipName}`);
      });
      publicIp = address?.ipAddress;
    }
    return { ...(privateIp ? { privateIp } : {}), ...(publicIp ? { publicIp } : {}) };
  }

  /**
   * Where the VM goes: the subnet (config.networks[0]: a subnet id, `vnet/subnet`, a vnet or a
   * subnet name; none given: the resource group's first virtual network and its first subnet),
   * the NSG (config.securityGroups[0], by name or id) and the SSH key (config.keyPair: an SSH
   * public key resource in the group, or the key itself).
   */
  private async placementFor(spec: LaunchSpec, doing: string): Promise<ResolvedPlacement> {
    const [subnetId, sshPublicKey] = await Promise.all([this.subnetFor(spec.networks?.[0], doing), this.sshKeyFor(spec.keyPair, doing)]);
    const group = spec.securityGroups?.[0];
    const networkSecurityGroupId = group
      ? group.startsWith('/subscriptions/')
        ? group
        : `${this.groupId()}/providers/Microsoft.Network/networkSecurityGroups/${group}`
      : undefined;
    return { subnetId, sshPublicKey, ...(networkSecurityGroupId ? { networkSecurityGroupId } : {}) };
  }

  private async subnetFor(wanted: string | undefined, doing: string): Promise<string> {
    if (wanted?.startsWith('/subscriptions/')) return wanted;
    const vnets: VirtualNetwork[] = [];
    await this.call(doing, async () => {
      for await (const vnet of this.network.virtualNetworks.list(this.resourceGroup)) vnets.push(vnet);
    });
    vnets.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    const firstSubnet = (vnet: VirtualNetwork) => [...(vnet.subnets ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))[0]?.id;
    if (!wanted) {
      const subnet = vnets.map(firstSubnet).find(Boolean);
      if (subnet) return subnet;
      throw new ProviderError(
        `Could not ${doing}: resource group ${this.resourceGroup} has no virtual network with a subnet; create one (az network vnet create … --subnet-name default) or name one in config.networks`,
        'invalid-request',
      );
    }
    const [vnetName, subnetName] = wanted.includes('/') ? wanted.split('/', 2) : [undefined, wanted];
    for (const vnet of vnets) {
      if (vnetName !== undefined && vnet.name !== vnetName) continue;
      if (vnetName === undefined && vnet.name === wanted) {
        const subnet = firstSubnet(vnet);
        if (subnet) return subnet;
      }
      const subnet = vnet.subnets?.find((candidate) => candidate.name === subnetName);
      if (subnet?.id) return subnet.id;
    }
    throw new ProviderError(`Could not ${doing}: no virtual network or subnet '${wanted}' in resource group ${this.resourceGroup}`, 'invalid-request');
  }

  private async sshKeyFor(keyPair: string | undefined, doing: string): Promise<string> {
    if (!keyPair) return throwawaySshPublicKey();
    if (/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-\S+) /.test(keyPair)) return keyPair;
    try {
      const key = await this.compute.sshPublicKeys.get(this.resourceGroup, keyPair);
      if (key.publicKey) return key.publicKey;
    } catch (error) {
      if (!isNotFound(error)) throw toProviderError(error, doing);
    }
    throw new ProviderError(`Could not ${doing}: no SSH public key '${keyPair}' in resource group ${this.resourceGroup}`, 'invalid-request');
  }

  /**
   * A VM action begun and not awaited. Azure makes deallocate and start idempotent for their
   * outcome; a 409 (the VM is between states, or in one the action does not fit) is explained:
   * transient while the VM settles, invalid-request otherwise.
   */
  private async act(ref: MachineRef, verb: string, begin: (vmName: string) => Promise<unknown>): Promise<void> {
    this.checkRegion(ref.region);
    const vmName = this.vmNameOf(ref);
    const doing = `${verb} ${label(ref)}`;
    if (!vmName) throw new ProviderError(`Could not ${doing}: the VM does not exist at Azure`, 'not-found');
    try {
      await begin(vmName);
    } catch (error) {
      if (isNotFound(error)) throw new ProviderError(`Could not ${doing}: the VM does not exist at Azure`, 'not-found');
      const failure = toProviderError(error, doing);
      if (kindOfAzureError(error) !== 'invalid-request') throw failure;
      const machine = await this.describe(ref).catch(() => null);
      if (machine && (machine.state === 'pending' || machine.state === 'stopping')) {
        throw new ProviderError(`${failure.message.split('. ')[0]}; the VM is ${machine.details?.powerState ?? machine.state}: try again once it has settled`, 'transient');
      }
      throw failure;
    }
  }

  private async releaseLeftovers(vmName: string, instanceId: string, doing: string): Promise<void> {
    const names = resourceNames(vmName);
    const mine = (tags: Record<string, string> | undefined) => !tags?.[OWNER_TAG] || tags[OWNER_TAG] === instanceId;
    const nic = await this.call(doing, () => orNull(this.network.networkInterfaces.get(this.resourceGroup, names.nic)));
    if (nic && mine(nic.tags) && nic.provisioningState?.toLowerCase() !== 'deleting') {
      await this.call(doing, () => ignoreNotFound(this.network.networkInterfaces.beginDelete(this.resourceGroup, names.nic)));
    }
    const disk = await this.call(doing, () => orNull(this.compute.disks.get(this.resourceGroup, names.osDisk)));
    // A disk already being deleted is left to finish, like the NIC and IP: a second DELETE is noise.
    if (disk && mine(disk.tags) && !disk.managedBy && disk.provisioningState?.toLowerCase() !== 'deleting') {
      await this.call(doing, () => ignoreNotFound(this.compute.disks.beginDelete(this.resourceGroup, names.osDisk)));
    }
    const ip = await this.call(doing, () => orNull(this.network.publicIPAddresses.get(this.resourceGroup, names.publicIp)));
    if (ip && mine(ip.tags) && ip.provisioningState?.toLowerCase() !== 'deleting') {
      if (ip.ipConfiguration?.id) {
        // Still attached to the NIC being deleted: Azure refuses until the NIC is gone.
        throw new ProviderError(`Could not ${doing}: public IP ${names.publicIp} is still attached to a network interface being deleted; trying again`, 'transient');
      }
      await this.call(doing, () => ignoreNotFound(this.network.publicIPAddresses.beginDelete(this.resourceGroup, names.publicIp)));
    }
  }

  private groupId(): string {
    return `/subscriptions/${this.credentials.subscriptionId}/resourceGroups/${this.resourceGroup}`;
  }

  private vmId(vmName: string): string {
    return `${this.groupId()}/providers/Microsoft.Compute/virtualMachines/${vmName}`;
  }

  /**
   * The VM name a provider id stands for: a full resource id in this account's subscription and
   * resource group, or a bare name; null when it cannot name a VM here (such a VM cannot exist).
   */
  private vmNameOf(ref: MachineRef): string | null {
    const id = ref.providerInstanceId;
    const match = VM_ID.exec(id);
    if (match) {
      const [, subscription, group, name] = match as unknown as [string, string, string, string];
      if (subscription.toLowerCase() !== this.credentials.subscriptionId.toLowerCase() || group.toLowerCase() !== this.resourceGroup.toLowerCase()) {
        throw new ProviderError(`VM ${id} of ${ref.instanceId} is not in this account's subscription and resource group (${this.resourceGroup})`, 'invalid-request');
      }
      return name;
    }
    return VM_NAME.test(id) ? id : null;
  }

  private checkRegion(region: string | undefined): void {
    if (region && region !== this.region) {
      throw new ProviderError(`This Azure account is set up for region ${this.region}, not ${region}`, 'invalid-request');
    }
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toProviderError(error, doing);
    }
  }
}

/**
 * Throttling: the SDK's retry policy waits out a 429's Retry-After and sends again (up to
 * maxRetries). One Lambda call must not sleep for minutes, so a longer wait than `maxMs` ends the
 * call at once as 'throttled', and the workflow's own backoff takes over.
 */
function retryAfterCap(maxMs: number): PipelinePolicy {
  return {
    name: 'hangarRetryAfterCap',
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status !== 429 && response.status !== 503) return response;
      const waitMs = retryAfterMsOf(response.headers.get('retry-after'), response.headers.get('retry-after-ms') ?? response.headers.get('x-ms-retry-after-ms'));
      if (waitMs !== undefined && waitMs > maxMs) {
        throw new ProviderError(
          `Azure Resource Manager is throttling this subscription (${response.status}) and asks to wait ${Math.ceil(waitMs / 1000)} s; Hangar retries with backoff`,
          'throttled',
        );
      }
      return response;
    },
  };
}

export function retryAfterMsOf(seconds: string | undefined, milliseconds?: string | undefined): number | undefined {
  if (milliseconds && /^\d+$/.test(milliseconds.trim())) return Number(milliseconds.trim());
  if (!seconds) return undefined;
  if (/^\d+(\.\d+)?$/.test(seconds.trim())) return Math.ceil(Number(seconds.trim()) * 1000);
  const at = Date.parse(seconds);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function collect<T>(items: AsyncIterable<T>, toItem: (item: T) => CatalogItem | null): Promise<CatalogItem[]> {
  const out: CatalogItem[] = [];
  for await (const item of items) {
    const mapped = toItem(item);
    if (mapped) out.push(mapped);
  }
  return out;
}

async function orNull<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

async function ignoreNotFound(begin: Promise<unknown>): Promise<void> {
  try {
    await begin;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

const label = (ref: MachineRef) => `${ref.instanceId} (${ref.providerInstanceId.split('/').pop()})`;

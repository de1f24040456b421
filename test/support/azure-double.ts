/**
 * Azure on 127.0.0.1: the Microsoft Entra ID token endpoint and the parts of Azure Resource
 * Manager the AZURE adapter uses, answering over plain http the way the REST reference says
 * Azure answers (the adapter reaches it through its loopback http client).
 *
 *   - Identity: `GET /{tenant}/v2.0/.well-known/openid-configuration` and
 *     `POST /{tenant}/oauth2/v2.0/token` (client_credentials with client_secret). A wrong
 *     tenant, client or secret is a 400/401 with an AADSTS message, as Entra ID answers.
 *   - ARM, under /subscriptions/{sub}/resourceGroups/{rg}/providers/…, with a bearer token this
 *     double issued: Microsoft.Compute virtualMachines (list with $expand=instanceView, get,
 *     PUT create-or-update, DELETE, POST deallocate/start/restart/powerOff), disks, images,
 *     sshPublicKeys, locations/{l}/vmSizes and locations/{l}/operations/{id};
 *     Microsoft.Network virtualNetworks, networkSecurityGroups, networkInterfaces,
 *     publicIPAddresses. Unknown subscription → 404 SubscriptionNotFound; unknown group → 404
 *     ResourceGroupNotFound; an unknown size → 409 SkuNotAvailable.
 *   - Long-running operations answer 201/202 at once with `Azure-AsyncOperation` (and `Location`
 *     for POST and DELETE) headers, and complete `transitionMs` later (lazily, on the next
 *     request): a VM goes Creating → Succeeded with PowerState starting → running; deallocate
 *     deallocating → deallocated; restart starting → running; delete Deleting → gone, taking its
 *     NIC, public IP and OS disk when their deleteOption is Delete (as Azure does).
 *   - A VM's NIC and Standard public IP are created from its networkInterfaceConfigurations;
 *     a public IP still attached to a NIC cannot be deleted (400 PublicIPAddressCannotBeDeleted).
 *
 * Injections: `failCreates` (a create error on PUT — 'sync' answers it, 'async' accepts the PUT
 * and fails the VM's provisioning later, as AllocationFailed does), `failNext` (any request
 * matching a method and path), `throttleNext` (429 with Retry-After), `dropNextResponse` (the
 * request is carried out, then the connection is cut before the answer).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AzureDoubleOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  /** How long a long-running operation takes (default 30 ms). */
  transitionMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
}

interface ArmError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

interface Resource {
  id: string;
  name: string;
  type: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  deleting?: boolean;
  /** A change that lands at `at` (ms since epoch). */
  pending?: { at: number; apply: () => void };
}

interface Vm extends Resource {
  provisioningState: 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';
  power?: string;
  failure?: { code: string; message: string };
  vmId: string;
}

export interface CreateFailure {
  code: string;
  message: string;
  /** 'sync': the PUT itself is refused; 'async': accepted, then the VM fails to provision. */
  mode: 'sync' | 'async';
  status?: number;
  /** How many creates fail (default: every one). */
  times?: number;
}

const SIZES = [
  { name: 'Standard_B2s', numberOfCores: 2, memoryInMB: 4096, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 8192, maxDataDiskCount: 4 },
  { name: 'Standard_D2s_v5', numberOfCores: 2, memoryInMB: 8192, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 0, maxDataDiskCount: 4 },
  { name: 'Standard_NC4as_T4_v3', numberOfCores: 4, memoryInMB: 28672, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 180224, maxDataDiskCount: 8 },
  { name: 'Standard_NC24ads_A100_v4', numberOfCores: 24, memoryInMB: 225280, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 65536, maxDataDiskCount: 8 },
];

export class AzureDouble {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  transitionMs: number;
  readonly requests: RecordedRequest[] = [];
  readonly tokenRequests: RecordedRequest[] = [];

  private readonly tokens = new Set<string>();
  private readonly vms = new Map<string, Vm>();
  private readonly nics = new Map<string, Resource>();
  private readonly publicIps = new Map<string, Resource>();
  private readonly disks = new Map<string, Resource>();
  private readonly vnets = new Map<string, Resource>();
  private readonly nsgs = new Map<string, Resource>();
  private readonly sshKeys = new Map<string, Resource>();
  private readonly operations = new Map<string, { done: () => boolean; error?: () => { code: string; message: string } | undefined }>();
  private readonly failures: { method: string; path: RegExp; error: ArmError; times: number }[] = [];
  private readonly drops: { method: string; path: RegExp; times: number }[] = [];
  private throttle: { times: number; retryAfterSeconds: number } = { times: 0, retryAfterSeconds: 0 };
  private createFailure: (CreateFailure & { left: number }) | undefined;
  private ipCounter = 4;
  private server!: Server;
  url = '';

  private constructor(options: AzureDoubleOptions) {
    this.tenantId = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
    this.clientId = options.clientId ?? '11111111-2222-3333-4444-555555555555';
    this.clientSecret = options.clientSecret ?? 'hangar-sp-s3cret~value';
    this.subscriptionId = options.subscriptionId ?? '00000000-0000-0000-0000-00000000beef';
    this.resourceGroup = options.resourceGroup ?? 'hangar-rg';
    this.location = options.location ?? 'eastus';
    this.transitionMs = options.transitionMs ?? 30;
    const vnetId = `${this.groupPath()}/providers/Microsoft.Network/virtualNetworks/hangar-vnet`;
    this.vnets.set('hangar-vnet', {
      id: vnetId,
      name: 'hangar-vnet',
      type: 'Microsoft.Network/virtualNetworks',
      tags: {},
      properties: {
        provisioningState: 'Succeeded',
        addressSpace: { addressPrefixes: ['10.0.0.0/16'] },
        subnets: [{ id: `${vnetId}/subnets/default`, name: 'default', properties: { addressPrefix: '10.0.0.0/24', provisioningState: 'Succeeded' } }],
      },
    });
    this.nsgs.set('hangar-nsg', {
      id: `${this.groupPath()}/providers/Microsoft.Network/networkSecurityGroups/hangar-nsg`,
      name: 'hangar-nsg',
      type: 'Microsoft.Network/networkSecurityGroups',
      tags: {},
      properties: { provisioningState: 'Succeeded', securityRules: [{ name: 'ssh', properties: { access: 'Allow', direction: 'Inbound', destinationPortRange: '22' } }] },
    });
    this.sshKeys.set('hangar-key', {
      id: `${this.groupPath()}/providers/Microsoft.Compute/sshPublicKeys/hangar-key`,
      name: 'hangar-key',
      type: 'Microsoft.Compute/sshPublicKeys',
      tags: {},
      properties: { publicKey: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdouble hangar@double' },
    });
  }

  static async start(options: AzureDoubleOptions = {}): Promise<AzureDouble> {
    const double = new AzureDouble(options);
    double.server = createServer((request, response) => {
      double.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    double.url = `http://127.0.0.1:${(double.server.address() as AddressInfo).port}`;
    return double;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** An account's credentials for this double, nested as the API takes them. */
  credentials(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      tenantId: this.tenantId,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      subscriptionId: this.subscriptionId,
      resourceGroup: this.resourceGroup,
      cloud: { resourceManagerEndpoint: this.url, authorityHost: this.url },
      ...overrides,
    };
  }

  // ——— injections ———

  failCreates(failure: CreateFailure | undefined): void {
    this.createFailure = failure ? { ...failure, left: failure.times ?? Number.POSITIVE_INFINITY } : undefined;
  }

  failNext(method: string, path: RegExp, error: ArmError, times = 1): void {
    this.failures.push({ method, path, error, times });
  }

  throttleNext(times: number, retryAfterSeconds: number): void {
    this.throttle = { times, retryAfterSeconds };
  }

  dropNextResponse(method: string, path: RegExp, times = 1): void {
    this.drops.push({ method, path, times });
  }

  // ——— what a test reads ———

  vm(name: string): { name: string; tags: Record<string, string>; provisioningState: string; power?: string; properties: Record<string, unknown> } | undefined {
    this.settle();
    const vm = this.vms.get(name);
    return vm ? { name: vm.name, tags: vm.tags, provisioningState: vm.provisioningState, ...(vm.power ? { power: vm.power } : {}), properties: vm.properties } : undefined;
  }

  /** Every resource that exists now, by kind. */
  inventory(): { vms: string[]; nics: string[]; publicIps: string[]; disks: string[] } {
    this.settle();
    return { vms: [...this.vms.keys()], nics: [...this.nics.keys()], publicIps: [...this.publicIps.keys()], disks: [...this.disks.keys()] };
  }

  armRequests(method?: string, path?: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => (!method || r.method === method) && (!path || path.test(r.path)));
  }

  clearRequests(): void {
    this.requests.length = 0;
    this.tokenRequests.length = 0;
  }

  // ——— the server ———

  private groupPath(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}`;
  }

  private httpsBase(request: IncomingMessage): string {
    return `https://${request.headers.host}`;
  }

  private settle(): void {
    const now = Date.now();
    for (const store of [this.vms, this.nics, this.publicIps, this.disks] as Map<string, Resource>[]) {
      for (const resource of [...store.values()]) {
        if (resource.pending && resource.pending.at <= now) {
          const { apply } = resource.pending;
          delete resource.pending;
          apply();
        }
      }
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://double');
    const text = await new Promise<string>((resolve) => {
      let data = '';
      request.on('data', (chunk) => (data += chunk));
      request.on('end', () => resolve(data));
    });
    const body = parseBody(text, request.headers['content-type']);
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, body, status: 0 };
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      recorded.status = status;
      const drop = this.drops.find((d) => d.times > 0 && d.method === recorded.method && d.path.test(recorded.path));
      if (drop) {
        drop.times -= 1;
        request.socket.destroy();
        return;
      }
      response.writeHead(status, { 'content-type': 'application/json', 'x-ms-request-id': randomUUID(), ...headers });
      response.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const armError = (error: ArmError) => send(error.status, { error: { code: error.code, message: error.message } }, error.headers ?? {});

    if (!url.pathname.startsWith('/subscriptions/')) {
      this.tokenRequests.push(recorded);
      return this.identity(request, url, body, send);
    }
    this.requests.push(recorded);
    this.settle();
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) {
      return armError({ status: 401, code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' });
    }
    if (this.throttle.times > 0) {
      this.throttle.times -= 1;
      return armError({
        status: 429,
        code: 'TooManyRequests',
        message: 'The request is being throttled as the limit has been reached for operation type - Read_30Min.',
        headers: { 'retry-after': String(this.throttle.retryAfterSeconds) },
      });
    }
    const failure = this.failures.find((f) => f.times > 0 && f.method === recorded.method && f.path.test(recorded.path));
    if (failure) {
      failure.times -= 1;
      return armError(failure.error);
    }
    return this.arm(request, url, body, send, armError);
  }

  private identity(request: IncomingMessage, url: URL, body: unknown, send: (status: number, payload?: unknown) => void): void {
    const [, tenant, ...rest] = url.pathname.split('/');
    const tail = rest.join('/');
    const base = `${this.httpsBase(request)}/${tenant}`;
    if (request.method === 'GET' && tail === 'v2.0/.well-known/openid-configuration') {
      if (tenant !== this.tenantId) return send(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      return send(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      });
    }
    if (request.method === 'POST' && tail === 'oauth2/v2.0/token') {
      const form = (body ?? {}) as Record<string, string>;
      if (tenant !== this.tenantId) return send(400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      if (form.client_id !== this.clientId) {
        return send(400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${form.client_id}' was not found in the directory.` });
      }
      if (form.client_secret !== this.clientSecret) {
        return send(401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.` });
      }
      const accessToken = `eyJ0eXAiOiJKV1QifQ.${randomBytes(16).toString('base64url')}.sig`;
      this.tokens.add(accessToken);
      return send(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken });
    }
    send(404, { error: 'not_found' });
  }

  private arm(
    request: IncomingMessage,
    url: URL,
    body: unknown,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
    armError: (error: ArmError) => void,
  ): void {
    const method = request.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[1]?.toLowerCase() !== this.subscriptionId) {
      return armError({ status: 404, code: 'SubscriptionNotFound', message: `The subscription '${parts[1]}' could not be found.` });
    }
    // /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/(vmSizes|operations/{id})
    if (parts[2]?.toLowerCase() === 'providers') {
      if (parts[6] === 'vmSizes') return send(200, { value: SIZES });
      if (parts[6] === 'operations' && parts[7]) {
        const operation = this.operations.get(parts[7]);
        if (!operation) return armError({ status: 404, code: 'NotFound', message: 'Operation not found' });
        this.settle();
        const error = operation.error?.();
        if (error) return send(200, { name: parts[7], status: 'Failed', error });
        return send(200, { name: parts[7], status: operation.done() ? 'Succeeded' : 'InProgress' });
      }
      return armError({ status: 404, code: 'NotFound', message: `No route for ${url.pathname}` });
    }
    if (parts[2]?.toLowerCase() !== 'resourcegroups') return armError({ status: 404, code: 'NotFound', message: `No route for ${url.pathname}` });
    if (parts[3]?.toLowerCase() !== this.resourceGroup.toLowerCase()) {
      return armError({ status: 404, code: 'ResourceGroupNotFound', message: `Resource group '${parts[3]}' could not be found.` });
    }
    const [, , , , , namespace, type, name, action] = parts;
    const kind = `${namespace}/${type}`;
    const stores: Record<string, Map<string, Resource>> = {
      'Microsoft.Compute/virtualMachines': this.vms,
      'Microsoft.Compute/disks': this.disks,
      'Microsoft.Compute/sshPublicKeys': this.sshKeys,
      'Microsoft.Compute/images': new Map(),
      'Microsoft.Network/virtualNetworks': this.vnets,
      'Microsoft.Network/networkSecurityGroups': this.nsgs,
      'Microsoft.Network/networkInterfaces': this.nics,
      'Microsoft.Network/publicIPAddresses': this.publicIps,
    };
    const store = stores[kind];
    if (!store) return armError({ status: 404, code: 'NotFound', message: `No route for ${url.pathname}` });
    const expand = url.searchParams.get('$expand') === 'instanceView';
    const present = (resource: Resource) => (kind === 'Microsoft.Compute/virtualMachines' ? this.presentVm(resource as Vm, expand) : presentResource(resource, this.location));
    const notFound = () =>
      armError({ status: 404, code: 'ResourceNotFound', message: `The Resource '${kind}/${name}' under resource group '${this.resourceGroup}' was not found.` });

    if (!name) {
      if (method !== 'GET') return armError({ status: 405, code: 'MethodNotAllowed', message: 'Method not allowed' });
      return send(200, { value: [...store.values()].map(present) });
    }
    const resource = store.get(name);
    if (kind === 'Microsoft.Compute/virtualMachines') {
      if (method === 'PUT') return this.putVm(request, name, body as Record<string, unknown>, send, armError);
      if (method === 'POST' && action) return this.vmAction(request, name, action, send, armError);
    }
    if (method === 'GET') return resource ? send(200, present(resource)) : notFound();
    if (method === 'DELETE') {
      if (!resource) return send(204);
      if (kind === 'Microsoft.Network/publicIPAddresses' && [...this.nics.values()].some((nic) => nicUsesIp(nic, resource.id))) {
        return armError({
          status: 400,
          code: 'PublicIPAddressCannotBeDeleted',
          message: `Public IP address ${resource.id} can not be deleted since it is still allocated to resource ${[...this.nics.values()].find((nic) => nicUsesIp(nic, resource.id))?.id}/ipConfigurations/ipconfig1.`,
        });
      }
      if (kind === 'Microsoft.Compute/virtualMachines') this.deleteVm(resource as Vm);
      else this.deleteLater(store, resource);
      return send(202, undefined, this.operationHeaders(request, () => !store.has(name), true));
    }
    armError({ status: 405, code: 'MethodNotAllowed', message: 'Method not allowed' });
  }

  private operationHeaders(request: IncomingMessage, done: () => boolean, withLocation: boolean, error?: () => { code: string; message: string } | undefined): Record<string, string> {
    const id = randomUUID();
    this.operations.set(id, { done, ...(error ? { error } : {}) });
    const operation = `${this.httpsBase(request)}/subscriptions/${this.subscriptionId}/providers/Microsoft.Compute/locations/${this.location}/operations/${id}?api-version=2024-11-01`;
    return { 'azure-asyncoperation': operation, ...(withLocation ? { location: operation } : {}), 'retry-after': '0' };
  }

  private putVm(
    request: IncomingMessage,
    name: string,
    body: Record<string, unknown>,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
    armError: (error: ArmError) => void,
  ): void {
    const properties = (body.properties ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const existing = this.vms.get(name);
    if (existing) {
      if (existing.provisioningState === 'Deleting') return armError({ status: 409, code: 'OperationNotAllowed', message: `Operation 'PUT' is not allowed on VM '${name}' since the VM is marked for deletion.` });
      existing.tags = (body.tags as Record<string, string>) ?? existing.tags;
      return send(200, this.presentVm(existing, false), this.operationHeaders(request, () => true, false));
    }
    const size = properties.hardwareProfile?.vmSize as string | undefined;
    if (!SIZES.some((s) => s.name === size)) {
      return armError({
        status: 409,
        code: 'SkuNotAvailable',
        message: `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${size}' is currently not available in location '${this.location}'. Please try another size or deploy to a different location or different zone.`,
      });
    }
    const failure = this.createFailure && this.createFailure.left > 0 ? this.createFailure : undefined;
    if (failure) failure.left -= 1;
    if (failure?.mode === 'sync') return armError({ status: failure.status ?? 409, code: failure.code, message: failure.message });

    const id = `${this.groupPath()}/providers/Microsoft.Compute/virtualMachines/${name}`;
    const nicConfig = properties.networkProfile?.networkInterfaceConfigurations?.[0];
    const ipConfig = nicConfig?.properties?.ipConfigurations?.[0]?.properties;
    const nicId = `${this.groupPath()}/providers/Microsoft.Network/networkInterfaces/${nicConfig?.name ?? `${name}-nic`}`;
    const ipConfiguration = ipConfig?.publicIPAddressConfiguration;
    const ipId = ipConfiguration ? `${this.groupPath()}/providers/Microsoft.Network/publicIPAddresses/${ipConfiguration.name}` : undefined;
    const host = this.ipCounter++;
    if (ipId) {
      this.publicIps.set(ipConfiguration.name, {
        id: ipId,
        name: ipConfiguration.name,
        type: 'Microsoft.Network/publicIPAddresses',
        tags: {},
        properties: {
          provisioningState: 'Succeeded',
          publicIPAllocationMethod: 'Static',
          ipAddress: `20.51.7.${host}`,
          ipConfiguration: { id: `${nicId}/ipConfigurations/ipconfig1` },
          deleteOption: ipConfiguration.properties?.deleteOption ?? 'Detach',
        },
      });
    }
    this.nics.set(nicConfig?.name ?? `${name}-nic`, {
      id: nicId,
      name: nicConfig?.name ?? `${name}-nic`,
      type: 'Microsoft.Network/networkInterfaces',
      tags: {},
      properties: {
        provisioningState: 'Succeeded',
        deleteOption: nicConfig?.properties?.deleteOption ?? 'Detach',
        virtualMachine: { id },
        ...(nicConfig?.properties?.networkSecurityGroup ? { networkSecurityGroup: nicConfig.properties.networkSecurityGroup } : {}),
        ipConfigurations: [
          {
            id: `${nicId}/ipConfigurations/ipconfig1`,
            name: 'ipconfig1',
            properties: {
              primary: true,
              privateIPAddress: `10.0.0.${host}`,
              privateIPAllocationMethod: 'Dynamic',
              subnet: ipConfig?.subnet,
              ...(ipId ? { publicIPAddress: { id: ipId } } : {}),
            },
          },
        ],
      },
    });
    const osDisk = properties.storageProfile?.osDisk ?? {};
    const diskName = osDisk.name ?? `${name}_OsDisk_1`;
    this.disks.set(diskName, {
      id: `${this.groupPath()}/providers/Microsoft.Compute/disks/${diskName}`,
      name: diskName,
      type: 'Microsoft.Compute/disks',
      tags: {},
      properties: { provisioningState: 'Succeeded', diskSizeGB: osDisk.diskSizeGB ?? 30, deleteOption: osDisk.deleteOption ?? 'Detach', managedBy: id },
    });
    const vm: Vm = {
      id,
      name,
      type: 'Microsoft.Compute/virtualMachines',
      tags: (body.tags as Record<string, string>) ?? {},
      properties: {
        ...properties,
        networkProfile: {
          ...properties.networkProfile,
          networkInterfaces: [{ id: nicId, properties: { primary: true, deleteOption: nicConfig?.properties?.deleteOption ?? 'Detach' } }],
        },
      },
      provisioningState: 'Creating',
      power: 'starting',
      vmId: randomUUID(),
    };
    vm.pending = {
      at: Date.now() + this.transitionMs,
      apply: () => {
        if (failure) {
          vm.provisioningState = 'Failed';
          delete vm.power;
          vm.failure = { code: failure.code, message: failure.message };
        } else {
          vm.provisioningState = 'Succeeded';
          vm.power = 'running';
        }
      },
    };
    this.vms.set(name, vm);
    send(201, this.presentVm(vm, false), this.operationHeaders(request, () => vm.provisioningState !== 'Creating', false, () => vm.failure));
  }

  private vmAction(
    request: IncomingMessage,
    name: string,
    action: string,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
    armError: (error: ArmError) => void,
  ): void {
    const vm = this.vms.get(name);
    if (!vm) return armError({ status: 404, code: 'ResourceNotFound', message: `The Resource 'Microsoft.Compute/virtualMachines/${name}' under resource group '${this.resourceGroup}' was not found.` });
    if (vm.provisioningState === 'Deleting' || vm.provisioningState === 'Creating') {
      return armError({ status: 409, code: 'OperationNotAllowed', message: `Operation '${action}' is not allowed on VM '${name}' since the VM is ${vm.provisioningState === 'Deleting' ? 'marked for deletion' : 'being created'}.` });
    }
    const after = (transient: string, final: string) => {
      vm.power = transient;
      vm.pending = { at: Date.now() + this.transitionMs, apply: () => (vm.power = final) };
    };
    switch (action) {
      case 'deallocate':
        if (vm.power !== 'deallocated') after('deallocating', 'deallocated');
        break;
      case 'powerOff':
        if (vm.power !== 'stopped' && vm.power !== 'deallocated') after('stopping', 'stopped');
        break;
      case 'start':
        if (vm.power === 'deallocating' || vm.power === 'stopping') {
          return armError({ status: 409, code: 'OperationNotAllowed', message: `Operation 'start' is not allowed since the VM '${name}' is ${vm.power}.` });
        }
        if (vm.power !== 'running') after('starting', 'running');
        break;
      case 'restart':
        if (vm.power !== 'running') {
          return armError({ status: 409, code: 'OperationNotAllowed', message: `Operation 'restart' is not allowed since the VM '${name}' is ${vm.power ?? 'not running'}.` });
        }
        after('starting', 'running');
        break;
      default:
        return armError({ status: 404, code: 'NotFound', message: `No action ${action}` });
    }
    send(202, undefined, this.operationHeaders(request, () => !vm.pending, true));
  }

  private deleteVm(vm: Vm): void {
    vm.provisioningState = 'Deleting';
    vm.pending = { at: Date.now() + this.transitionMs, apply: () => this.removeVm(vm, false) };
  }

  /** The VM goes; its NIC, public IP and OS disk go too when their deleteOption says Delete (or are detached). */
  private removeVm(vm: Vm, detachAll: boolean): void {
    this.vms.delete(vm.name);
    const nics = [...this.nics.entries()].filter(([, nic]) => (nic.properties.virtualMachine as { id?: string } | undefined)?.id === vm.id);
    const ips = [...this.publicIps.entries()].filter(([, ip]) => nics.some(([, nic]) => nicUsesIp(nic, ip.id)));
    const disks = [...this.disks.entries()].filter(([, disk]) => disk.properties.managedBy === vm.id);
    for (const [store, owned] of [
      [this.nics, nics],
      [this.publicIps, ips],
      [this.disks, disks],
    ] as const) {
      for (const [key, resource] of owned) {
        if (!detachAll && resource.properties.deleteOption === 'Delete') store.delete(key);
        else {
          delete resource.properties.virtualMachine;
          delete resource.properties.managedBy;
        }
      }
    }
  }

  /** A VM deleted outside Hangar with its NIC, public IP and disk detached, as the portal may leave them. */
  deleteVmByHand(name: string): void {
    const vm = this.vms.get(name);
    if (vm) this.removeVm(vm, true);
  }

  private deleteLater(store: Map<string, Resource>, resource: Resource): void {
    resource.deleting = true;
    resource.properties.provisioningState = 'Deleting';
    resource.pending = {
      at: Date.now() + this.transitionMs,
      apply: () => {
        store.delete(resource.name);
        // A deleted NIC lets go of its public IP.
        for (const ip of this.publicIps.values()) if (nicUsesIp(resource, ip.id)) delete ip.properties.ipConfiguration;
      },
    };
  }

  private presentVm(vm: Vm, expand: boolean): unknown {
    const statuses = [
      vm.failure
        ? { code: `ProvisioningState/failed/${vm.failure.code}`, level: 'Error', displayStatus: 'Provisioning failed', message: vm.failure.message }
        : { code: `ProvisioningState/${vm.provisioningState.toLowerCase()}`, level: 'Info', displayStatus: `Provisioning ${vm.provisioningState.toLowerCase()}` },
      ...(vm.power ? [{ code: `PowerState/${vm.power}`, level: 'Info', displayStatus: `VM ${vm.power}` }] : []),
    ];
    return {
      id: vm.id,
      name: vm.name,
      type: vm.type,
      location: this.location,
      tags: vm.tags,
      properties: { ...vm.properties, vmId: vm.vmId, provisioningState: vm.provisioningState, ...(expand ? { instanceView: { statuses } } : {}) },
    };
  }
}

function presentResource(resource: Resource, location: string): unknown {
  return { id: resource.id, name: resource.name, type: resource.type, location, tags: resource.tags, properties: resource.properties };
}

function nicUsesIp(nic: Resource, ipId: string): boolean {
  const configs = (nic.properties.ipConfigurations ?? []) as { properties?: { publicIPAddress?: { id?: string } } }[];
  return configs.some((config) => config.properties?.publicIPAddress?.id === ipId);
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (!text) return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * OpenStackDouble — an OpenStack cloud in one node:http server on 127.0.0.1, for tests that
 * drive the OPENSTACK provider over real HTTP. It follows the API references (Keystone v3,
 * Nova v2.1 with microversions, Glance v2, Neutron v2.0): the same paths, bodies, status codes,
 * error shapes and pagination links, so the adapter cannot lean on anything a cloud would not do.
 *
 * Start and stop:
 *   const cloud = await OpenStackDouble.start({ buildReads: 1 });
 *   const provider = new OpenStackProvider({ region: cloud.region, credentials: cloud.passwordCredentials() });
 *   …
 *   await cloud.close();
 *
 * Layout (endpoints in the token's catalog, all on this server):
 *   identity  {url}/identity/v3                         POST /v3/auth/tokens (password, application_credential)
 *   compute   {url}/{region}/{interface}/compute/v2.1    servers, actions, flavors (+ os-extra_specs), os-keypairs
 *   image     {url}/{region}/{interface}/image           /v2/images (listed unversioned, as clouds do)
 *   network   {url}/{region}/{interface}/network         /v2.0/networks, /v2.0/subnets, /v2.0/security-groups
 * for every region in `regions` (default RegionOne, RegionTwo) and interface public, internal,
 * admin. Servers live per region; flavors, images, networks, security groups and key pairs are
 * shared by all regions (a simplification).
 *
 * Options (OpenStackDoubleOptions): regions, tokenLifetimeMs (default 1 h), buildReads /
 * buildDelayMs (a new server answers BUILD for that many reads — GET /servers/{id} or a
 * listing — and at least that long, then ACTIVE), transitionReads / transitionDelayMs (the same
 * for os-stop, os-start and reboot), deleteReads (reads in task_state deleting before a deleted
 * server disappears; default 1: like Nova, a server just deleted is still listed, ACTIVE with
 * task_state deleting, before it answers 404; changes-since then lists it DELETED without
 * metadata or addresses, as Nova does), deletedReads (GETs of a server just deleted that still
 * answer 200 with status DELETED before the 404, as Nova sometimes does; default 0), maxPageSize (the most items any list answers per page;
 * default 1000, like Nova's max_limit), floatingIps (give each new server a floating IPv4 from
 * 172.24.4.0/24; default true), dropReusedConnections (Keystone and Nova serve one exchange per
 * connection and cut off a request sent on a kept-alive one, as uwsgi's http-socket does: the
 * client sees ECONNRESET; default true), volumeService (list a block-storage service in the
 * catalog; default true), now (the cloud's clock, default Date.now). All but
 * regions, volumeService and now are also public fields a test may change mid-way (cloud.maxPageSize = 2).
 *
 * Accounts: a user `hangar` / `s3cret` in domain Default, member of project `hangar-project`,
 * and an application credential `appcred-hangar` / `appcred-secret` for that project.
 * passwordCredentials(overrides) and applicationCredentials(overrides) return them shaped for
 * OpenStackProvider (and for POST /api/accounts); `url`, `authUrl`, `region` (the first one) and
 * endpointUrl(service, region, interface) say where things are.
 *
 * Seed data: flavors m1.tiny (1), m1.small (2, priced), m1.medium (3, priced), m1.large (4),
 * g1.a100 (GPU, priced), v1.volume (disk 0); images cirros-0.6.2-x86_64-disk, ubuntu-24.04
 * (active) and centos-7 (deactivated); networks private (IPv4 + IPv6 subnets), public
 * (external) and shared; security groups default and web; key pair hangar-key. Every
 * collection is a public array (flavors, images, networks, subnets, securityGroups, keyPairs)
 * with add…() helpers.
 *
 * Switches (what a test makes the cloud do next):
 *   throttleNext({ status = 429, retryAfter = '1', times = 1, service })  rate-limit the next requests
 *   failNext({ status, body, times = 1, service })                        answer the next requests with an error
 *   (service: 'identity' | 'compute' | 'image' | 'network'; omitted = any service but identity)
 *   failNextBuild(message)   the next created server ends in ERROR with that fault instead of ACTIVE
 *   failNextDelete(message)  the next delete ends with the server in ERROR (task_state none) and
 *                            that fault, as when nova-compute fails to destroy it
 *   failServer(id, message)  turn a server to ERROR with a fault now
 *   putServer(fields)        place a server directly (e.g. one launched "by someone else")
 *   revokeTokens()           every token issued so far answers 401 (as after a revocation)
 *   rejectAllTokens = true   every service request answers 401, even with a fresh token
 *   advanceClock(ms)         move the cloud's clock (tokens expire by it; the client's clock is its own)
 *
 * Observation: `requests` records every request in order — method, path, service, region,
 * interface, resource (the path below the service root), query, headers (lower-case), body and
 * the status answered; requestsTo(service, method?, resource?) filters them; clearRequests().
 * server(id) and servers(region) show the Nova records.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type DoubleService = 'identity' | 'compute' | 'image' | 'network';

export interface RecordedRequest {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  service: DoubleService | 'unknown';
  region?: string;
  interface?: string;
  /** The path below the service root: /v3/auth/tokens, /servers/detail, /v2/images, /v2.0/networks… */
  resource: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: unknown;
  /** What the double answered; 0 when it cut the connection off instead (dropReusedConnections). */
  status: number;
}

export interface OpenStackDoubleOptions {
  regions?: string[];
  tokenLifetimeMs?: number;
  buildReads?: number;
  buildDelayMs?: number;
  transitionReads?: number;
  transitionDelayMs?: number;
  deleteReads?: number;
  deletedReads?: number;
  maxPageSize?: number;
  floatingIps?: boolean;
  dropReusedConnections?: boolean;
  /** Whether the catalog lists a block-storage (Cinder) service; default true. */
  volumeService?: boolean;
  now?: () => number;
}

export interface DoubleFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral?: number;
  swap?: number;
  isPublic?: boolean;
  extraSpecs?: Record<string, string>;
}

export interface DoubleImage {
  id: string;
  name: string;
  status: string;
  visibility?: string;
  diskFormat?: string;
  size?: number;
  minDisk?: number;
  minRam?: number;
  osDistro?: string;
  createdAt?: number;
}

export interface DoubleNetwork {
  id: string;
  name: string;
  shared?: boolean;
  external?: boolean;
  mtu?: number;
}

export interface DoubleSubnet {
  id: string;
  name: string;
  networkId: string;
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp?: string;
}

export interface DoubleSecurityGroup {
  id: string;
  name: string;
  description?: string;
}

export interface DoubleKeyPair {
  name: string;
  publicKey: string;
  fingerprint: string;
  type?: string;
}

export interface DoubleAddress {
  addr: string;
  version: 4 | 6;
  type: 'fixed' | 'floating';
}

interface ServerShape {
  status: string;
  vmState: string;
  powerState: number;
  taskState: string | null;
}

interface Transition extends ServerShape {
  readsNeeded: number;
  notBefore: number;
  reads: number;
  fault?: string;
  deleted?: boolean;
}

export interface DoubleServer extends ServerShape {
  id: string;
  name: string;
  region: string;
  metadata: Record<string, string>;
  flavorId: string;
  imageId: string;
  keyName: string | null;
  securityGroups: string[];
  networkIds: string[];
  userData?: string;
  configDrive: boolean;
  blockDevices?: unknown[];
  addresses: Record<string, DoubleAddress[]>;
  created: number;
  updated: number;
  fault?: { code: number; message: string; created: number };
  deleted: boolean;
  /** GETs of this deleted server still answered 200 with status DELETED (see deletedReads). */
  deletedReadsLeft?: number;
  transition?: Transition;
}

interface Token {
  expiresAt: number;
  revoked: boolean;
}

interface Injected {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  times: number;
  service?: DoubleService;
}

interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  query: URLSearchParams;
  body: unknown;
  /** Base URL of the service root this request came through. */
  root: string;
  region: string;
}

const USER = { id: 'u-hangar-0001', name: 'hangar', password: 's3cret', domain: 'Default' };
const PROJECT = { id: 'p-hangar-0001', name: 'hangar-project', domain: 'Default' };
const APP_CRED = { id: 'appcred-hangar', secret: 'appcred-secret' };
const INTERFACES = ['public', 'internal', 'admin'] as const;
const MIN_MICROVERSION = [2, 1] as const;
const MAX_MICROVERSION = [2, 96] as const;
const UNAUTHORIZED = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };

export class OpenStackDouble {
  readonly regions: string[];
  readonly flavors: DoubleFlavor[] = [];
  readonly images: DoubleImage[] = [];
  readonly networks: DoubleNetwork[] = [];
  readonly subnets: DoubleSubnet[] = [];
  readonly securityGroups: DoubleSecurityGroup[] = [];
  readonly keyPairs: DoubleKeyPair[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Every service request answers 401 while true, even with a token just issued. */
  rejectAllTokens = false;
  maxPageSize: number;
  buildReads: number;
  buildDelayMs: number;
  transitionReads: number;
  transitionDelayMs: number;
  deleteReads: number;
  deletedReads: number;
  tokenLifetimeMs: number;
  floatingIps: boolean;
  dropReusedConnections: boolean;
  readonly volumeService: boolean;

  private readonly serverRecords = new Map<string, DoubleServer>();
  private readonly tokens = new Map<string, Token>();
  private readonly injected: Injected[] = [];
  /** Connections that have carried an exchange with Keystone or Nova (see dropReusedConnections). */
  private readonly usedConnections = new WeakSet<object>();
  private readonly baseNow: () => number;
  private clockOffsetMs = 0;
  private nextBuildFault: string | undefined;
  private nextDeleteFault: string | undefined;
  private addressCounter = 0;
  private http!: Server;
  private baseUrl = '';

  private constructor(options: OpenStackDoubleOptions) {
    this.regions = options.regions ?? ['RegionOne', 'RegionTwo'];
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
    this.buildReads = options.buildReads ?? 1;
    this.buildDelayMs = options.buildDelayMs ?? 0;
    this.transitionReads = options.transitionReads ?? 1;
    this.transitionDelayMs = options.transitionDelayMs ?? 0;
    this.deleteReads = options.deleteReads ?? 1;
    this.deletedReads = options.deletedReads ?? 0;
    this.maxPageSize = options.maxPageSize ?? 1000;
    this.floatingIps = options.floatingIps ?? true;
    this.dropReusedConnections = options.dropReusedConnections ?? true;
    this.volumeService = options.volumeService ?? true;
    this.baseNow = options.now ?? Date.now;
    this.seed();
  }

  static async start(options: OpenStackDoubleOptions = {}): Promise<OpenStackDouble> {
    const double = new OpenStackDouble(options);
    double.http = createServer((req, res) => {
      double.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { computeFault: { code: 500, message: String(error) } });
      });
    });
    await new Promise<void>((resolve) => double.http.listen(0, '127.0.0.1', resolve));
    double.baseUrl = `http://127.0.0.1:${(double.http.address() as AddressInfo).port}`;
    return double;
  }

  get url(): string {
    return this.baseUrl;
  }

  get authUrl(): string {
    return `${this.baseUrl}/identity/v3`;
  }

  /** The first region, where passwordCredentials() users normally work. */
  get region(): string {
    return this.regions[0] ?? 'RegionOne';
  }

  passwordCredentials(overrides: Partial<{ username: string; password: string; projectName: string }> = {}) {
    return {
      authUrl: this.authUrl,
      username: overrides.username ?? USER.name,
      password: overrides.password ?? USER.password,
      userDomainName: USER.domain,
      projectName: overrides.projectName ?? PROJECT.name,
      projectDomainName: PROJECT.domain,
    };
  }

  applicationCredentials(overrides: Partial<{ applicationCredentialSecret: string }> = {}) {
    return {
      authUrl: this.authUrl,
      applicationCredentialId: APP_CRED.id,
      applicationCredentialSecret: overrides.applicationCredentialSecret ?? APP_CRED.secret,
    };
  }

  endpointUrl(service: Exclude<DoubleService, 'identity'>, region = this.region, iface = 'public'): string {
    const root = service === 'compute' ? 'compute/v2.1' : service;
    return `${this.baseUrl}/${region}/${iface}/${root}`;
  }

  now(): number {
    return this.baseNow() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  revokeTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  throttleNext(options: { status?: 429 | 413; retryAfter?: string; times?: number; service?: DoubleService } = {}): void {
    const status = options.status ?? 429;
    const message = 'This request was rate-limited.';
    this.injected.push({
      status,
      headers: options.retryAfter === '' ? {} : { 'Retry-After': options.retryAfter ?? '1' },
      body: { overLimit: { code: status, message, retryAfter: options.retryAfter ?? '1' } },
      times: options.times ?? 1,
      ...(options.service ? { service: options.service } : {}),
    });
  }

  failNext(options: { status: number; body?: unknown; times?: number; service?: DoubleService }): void {
    this.injected.push({
      status: options.status,
      headers: {},
      body: options.body ?? { computeFault: { code: options.status, message: 'Unexpected API Error.' } },
      times: options.times ?? 1,
      ...(options.service ? { service: options.service } : {}),
    });
  }

  failNextBuild(message = 'No valid host was found. There are not enough hosts available.'): void {
    this.nextBuildFault = message;
  }

  failNextDelete(message: string): void {
    this.nextDeleteFault = message;
  }

  failServer(id: string, message: string): void {
    const server = this.requireServer(id);
    Object.assign(server, { status: 'ERROR', vmState: 'error', taskState: null, powerState: 0 });
    server.fault = { code: 500, message, created: this.now() };
    server.updated = this.now();
    delete server.transition;
  }

  putServer(fields: Partial<DoubleServer> & { name: string }): DoubleServer {
    const now = this.now();
    const server: DoubleServer = {
      id: randomUUID(),
      region: this.region,
      status: 'ACTIVE',
      vmState: 'active',
      powerState: 1,
      taskState: null,
      metadata: {},
      flavorId: this.flavors[0]?.id ?? '1',
      imageId: this.images[0]?.id ?? '',
      keyName: null,
      securityGroups: ['default'],
      networkIds: [],
      configDrive: false,
      addresses: {},
      created: now,
      updated: now,
      deleted: false,
      ...fields,
    };
    this.serverRecords.set(server.id, server);
    return server;
  }

  server(id: string): DoubleServer | undefined {
    return this.serverRecords.get(id);
  }

  servers(region?: string): DoubleServer[] {
    return [...this.serverRecords.values()].filter((server) => !region || server.region === region);
  }

  requestsTo(service: DoubleService, method?: string, resource?: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (request) =>
        request.service === service &&
        (!method || request.method === method) &&
        (resource === undefined ||
          (typeof resource === 'string' ? request.resource === resource : resource.test(request.resource))),
    );
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  addFlavor(flavor: DoubleFlavor): DoubleFlavor {
    this.flavors.push(flavor);
    return flavor;
  }

  addImage(image: Partial<DoubleImage> & { name: string }): DoubleImage {
    const full: DoubleImage = { id: randomUUID(), status: 'active', visibility: 'public', createdAt: this.now(), ...image };
    this.images.push(full);
    return full;
  }

  addNetwork(network: Partial<DoubleNetwork> & { name: string }): DoubleNetwork {
    const full: DoubleNetwork = { id: randomUUID(), ...network };
    this.networks.push(full);
    return full;
  }

  addSubnet(subnet: Omit<DoubleSubnet, 'id'> & { id?: string }): DoubleSubnet {
    const full: DoubleSubnet = { id: randomUUID(), ...subnet };
    this.subnets.push(full);
    return full;
  }

  addSecurityGroup(group: Partial<DoubleSecurityGroup> & { name: string }): DoubleSecurityGroup {
    const full: DoubleSecurityGroup = { id: randomUUID(), description: '', ...group };
    this.securityGroups.push(full);
    return full;
  }

  addKeyPair(name: string): DoubleKeyPair {
    const bytes = randomBytes(16).toString('hex');
    const keyPair: DoubleKeyPair = {
      name,
      publicKey: `ssh-ed25519 AAAA${bytes} ${name}`,
      fingerprint: bytes.match(/../g)?.join(':') ?? bytes,
      type: 'ssh',
    };
    this.keyPairs.push(keyPair);
    return keyPair;
  }

  async close(): Promise<void> {
    if (!this.http) return;
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------------------------
  // Routing

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (this.dropReusedConnections && /^\/(identity\/|[^/]+\/(public|internal|admin)\/compute\/)/.test(url.pathname)) {
      // uwsgi's http-socket: one exchange per connection, and no "Connection: close" to say so.
      if (this.usedConnections.has(req.socket)) {
        const cut = { method: req.method ?? 'GET', path: url.pathname, resource: url.pathname, query: {}, headers: {} };
        this.requests.push({ ...cut, service: 'unknown', body: undefined, status: 0 });
        req.socket.destroy();
        return;
      }
      this.usedConnections.add(req.socket);
    }
    const raw = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      service: 'unknown',
      resource: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    recordsByResponse.set(res, record);

    let body: unknown;
    if (raw.length) {
      try {
        body = JSON.parse(raw) as unknown;
        record.body = body;
      } catch {
        record.body = raw;
        return send(res, 400, { badRequest: { code: 400, message: 'Malformed request body' } });
      }
    }

    const identity = /^\/identity(\/.*)?$/.exec(url.pathname);
    const service = /^\/([^/]+)\/(public|internal|admin)\/(compute\/v2\.1|image|network)(\/.*)?$/.exec(url.pathname);
    if (identity) {
      record.service = 'identity';
      record.resource = identity[1] ?? '/';
    } else if (service) {
      const [, region = '', iface = '', root = '', rest = '/'] = service;
      record.service = root === 'compute/v2.1' ? 'compute' : (root as DoubleService);
      record.region = region;
      record.interface = iface;
      record.resource = rest;
    }

    const injected = this.takeInjected(record.service);
    if (injected) return send(res, injected.status, injected.body, injected.headers);

    if (record.service === 'identity') return this.identity(req, res, record, body);
    if (record.service === 'unknown' || !this.regions.includes(record.region ?? '')) {
      return send(res, 404, '<html><body><h1>404 Not Found</h1>The resource could not be found.</body></html>', {}, 'text/html');
    }
    if (!this.authorized(headers['x-auth-token'])) {
      return send(res, 401, UNAUTHORIZED, { 'WWW-Authenticate': `Keystone uri="${this.baseUrl}/identity"` });
    }
    const root = `${this.baseUrl}${url.pathname.slice(0, url.pathname.length - record.resource.length)}`;
    const context: Context = { req, res, record, query: url.searchParams, body, root, region: record.region ?? '' };
    if (record.service === 'compute') return this.compute(context);
    if (record.service === 'image') return this.image(context);
    return this.network(context);
  }

  private takeInjected(service: RecordedRequest['service']): Injected | undefined {
    const index = this.injected.findIndex((entry) =>
      entry.service ? entry.service === service : service !== 'identity' && service !== 'unknown',
    );
    const entry = this.injected[index];
    if (!entry) return undefined;
    entry.times -= 1;
    if (entry.times <= 0) this.injected.splice(index, 1);
    return entry;
  }

  private authorized(value: string | undefined): boolean {
    if (this.rejectAllTokens || !value) return false;
    const token = this.tokens.get(value);
    return !!token && !token.revoked && this.now() < token.expiresAt;
  }

  // ---------------------------------------------------------------------------------------------
  // Keystone

  private identity(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, body: unknown): void {
    if (record.resource !== '/v3/auth/tokens' || req.method !== 'POST') {
      return send(res, 404, { error: { code: 404, title: 'Not Found', message: 'The resource could not be found.' } });
    }
    const auth = field(body, 'auth');
    const identity = field(auth, 'identity');
    const methods = field(identity, 'methods');
    if (!Array.isArray(methods) || methods.length === 0) {
      return send(res, 400, { error: { code: 400, title: 'Bad Request', message: "'methods' is a required property" } });
    }
    let method: string;
    let scoped = false;
    if (methods.includes('application_credential')) {
      const credential = field(identity, 'application_credential');
      if (field(credential, 'id') !== APP_CRED.id || field(credential, 'secret') !== APP_CRED.secret) {
        return send(res, 401, UNAUTHORIZED);
      }
      method = 'application_credential';
      scoped = true; // an application credential is bound to its project
    } else if (methods.includes('password')) {
      const user = field(field(identity, 'password'), 'user');
      const domain = field(user, 'domain');
      const domainOk = field(domain, 'name') === USER.domain || field(domain, 'id') === 'default';
      if (field(user, 'name') !== USER.name || field(user, 'password') !== USER.password || !domainOk) {
        return send(res, 401, UNAUTHORIZED);
      }
      method = 'password';
      const project = field(field(auth, 'scope'), 'project');
      if (project !== undefined) {
        const projectDomain = field(project, 'domain');
        const projectOk =
          field(project, 'name') === PROJECT.name &&
          (field(projectDomain, 'name') === PROJECT.domain || field(projectDomain, 'id') === 'default');
        if (!projectOk && field(project, 'id') !== PROJECT.id) return send(res, 401, UNAUTHORIZED);
        scoped = true;
      }
    } else {
      return send(res, 401, UNAUTHORIZED);
    }

    const value = `gAAAAA${randomBytes(24).toString('base64url')}`;
    const issuedAt = this.now();
    const expiresAt = issuedAt + this.tokenLifetimeMs;
    this.tokens.set(value, { expiresAt, revoked: false });
    const token: Record<string, unknown> = {
      methods: [method],
      user: { id: USER.id, name: USER.name, domain: { id: 'default', name: USER.domain }, password_expires_at: null },
      audit_ids: [randomBytes(16).toString('base64url')],
      issued_at: keystoneTime(issuedAt),
      expires_at: keystoneTime(expiresAt),
    };
    if (scoped) {
      token.project = { id: PROJECT.id, name: PROJECT.name, domain: { id: 'default', name: PROJECT.domain } };
      token.is_domain = false;
      token.roles = [{ id: 'r-member', name: 'member' }, { id: 'r-reader', name: 'reader' }];
      token.catalog = this.catalog();
      if (method === 'application_credential') token.application_credential = { id: APP_CRED.id, name: 'hangar', restricted: true };
    }
    send(res, 201, { token }, { 'X-Subject-Token': value });
  }

  private catalog(): unknown[] {
    const entry = (type: string, name: string, url: (region: string, iface: string) => string) => ({
      id: `svc-${type}`,
      type,
      name,
      endpoints: this.regions.flatMap((region) =>
        INTERFACES.map((iface) => ({
          id: `ep-${type}-${region}-${iface}`,
          interface: iface,
          region,
          region_id: region,
          url: url(region, iface),
        })),
      ),
    });
    return [
      entry('identity', 'keystone', () => `${this.baseUrl}/identity`),
      entry('compute', 'nova', (region, iface) => this.endpointUrl('compute', region, iface)),
      entry('image', 'glance', (region, iface) => this.endpointUrl('image', region, iface)),
      entry('network', 'neutron', (region, iface) => this.endpointUrl('network', region, iface)),
      ...(this.volumeService ? [entry('block-storage', 'cinder', (region, iface) => `${this.baseUrl}/${region}/${iface}/volume/v3`)] : []),
    ];
  }

  // ---------------------------------------------------------------------------------------------
  // Nova

  private compute(context: Context): void {
    const { req, res, record } = context;
    const version = microversion(record.headers);
    if (!version) {
      const asked = record.headers['openstack-api-version'] ?? record.headers['x-openstack-nova-api-version'];
      return send(res, 406, {
        computeFault: {
          code: 406,
          message:
            `Version ${asked} is not supported by the API. ` +
            `Minimum is ${MIN_MICROVERSION.join('.')} and maximum is ${MAX_MICROVERSION.join('.')}.`,
        },
      });
    }
    res.setHeader('OpenStack-API-Version', `compute ${version.join('.')}`);
    res.setHeader('X-OpenStack-Nova-API-Version', version.join('.'));
    res.setHeader('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    const path = record.resource;
    const method = req.method ?? 'GET';
    let match: RegExpExecArray | null;

    if (path === '/servers' && method === 'POST') return this.createServer(context, version);
    if ((path === '/servers' || path === '/servers/detail') && method === 'GET') {
      return this.listServers(context, version, path === '/servers/detail');
    }
    if ((match = /^\/servers\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(match[1] ?? '');
      if (method === 'GET') return this.showServer(context, version, id);
      if (method === 'DELETE') return this.deleteServer(context, id);
    }
    if ((match = /^\/servers\/([^/]+)\/action$/.exec(path)) && method === 'POST') {
      return this.serverAction(context, decodeURIComponent(match[1] ?? ''));
    }
    if ((path === '/flavors' || path === '/flavors/detail') && method === 'GET') {
      return this.listFlavors(context, version, path === '/flavors/detail');
    }
    if ((match = /^\/flavors\/([^/]+)(\/os-extra_specs)?$/.exec(path)) && method === 'GET') {
      const flavor = this.flavors.find((candidate) => candidate.id === decodeURIComponent(match?.[1] ?? ''));
      if (!flavor) return notFound(res, `Flavor ${match[1]} could not be found.`);
      if (match[2]) return send(res, 200, { extra_specs: flavor.extraSpecs ?? {} });
      return send(res, 200, { flavor: this.flavorView(context, version, flavor, true) });
    }
    if (path === '/os-keypairs' && method === 'GET') return this.listKeyPairs(context);
    return notFound(res, 'The resource could not be found.');
  }

  private createServer(context: Context, version: readonly [number, number]): void {
    const { res } = context;
    const server = field(context.body, 'server');
    const bad = (message: string) => send(res, 400, { badRequest: { code: 400, message } });
    if (!isObject(server)) return bad("Invalid input for field/attribute server. Value: None. 'server' is a required property");
    const name = server.name;
    if (typeof name !== 'string' || !name.trim()) return bad("Invalid input for field/attribute server. 'name' is a required property");
    const flavorRef = server.flavorRef;
    if (typeof flavorRef !== 'string') return bad("Invalid input for field/attribute server. 'flavorRef' is a required property");
    const flavor = this.flavors.find((candidate) => candidate.id === flavorRef);
    if (!flavor) return bad(`Flavor ${flavorRef} could not be found.`);

    const blockDevices = Array.isArray(server.block_device_mapping_v2) ? server.block_device_mapping_v2 : undefined;
    const bootDevice = blockDevices?.find((device) => field(device, 'boot_index') === 0 || field(device, 'boot_index') === '0');
    const imageRef = typeof server.imageRef === 'string' && server.imageRef ? server.imageRef : undefined;
    const bootImage = imageRef ?? (field(bootDevice, 'source_type') === 'image' ? field(bootDevice, 'uuid') : undefined);
    if (!imageRef && !bootDevice) return bad('Block Device Mapping is Invalid: You specified more local devices than the limit allows');
    const image = this.images.find((candidate) => candidate.id === bootImage);
    if (bootImage !== undefined && !image) return bad(`Image ${String(bootImage)} could not be found.`);
    if (image && image.status !== 'active') return bad(`Image ${image.id} is not active.`);
    if (imageRef && flavor.disk === 0) {
      return send(res, 403, {
        forbidden: { code: 403, message: 'Only volume-backed servers are allowed for flavors with zero disk.' },
      });
    }

    let networkIds: string[];
    const networks = server.networks;
    if (networks === undefined) {
      if (atLeast(version, [2, 37])) return bad("Invalid input for field/attribute server. 'networks' is a required property");
      networkIds = this.autoNetwork();
    } else if (networks === 'auto') {
      networkIds = this.autoNetwork();
    } else if (networks === 'none') {
      networkIds = [];
    } else if (Array.isArray(networks)) {
      networkIds = [];
      for (const entry of networks) {
        const uuid = field(entry, 'uuid');
        if (typeof uuid !== 'string') return bad('Bad networks format: network uuid is not in proper format');
        if (!this.networks.some((network) => network.id === uuid)) return bad(`Network ${uuid} could not be found.`);
        networkIds.push(uuid);
      }
    } else {
      return bad('Invalid input for field/attribute networks.');
    }

    const keyName = server.key_name;
    if (keyName !== undefined && keyName !== null && !this.keyPairs.some((keyPair) => keyPair.name === keyName)) {
      return bad('Invalid key_name provided.');
    }
    const groups = Array.isArray(server.security_groups) ? server.security_groups.map((group) => field(group, 'name')) : ['default'];
    for (const group of groups) {
      if (!this.securityGroups.some((candidate) => candidate.name === group || candidate.id === group)) {
        return bad(`Security group ${String(group)} not found.`);
      }
    }
    const userData = server.user_data;
    if (userData !== undefined && (typeof userData !== 'string' || !isBase64(userData))) {
      return bad('User data needs to be valid base 64.');
    }
    const metadata = server.metadata ?? {};
    if (!isObject(metadata)) return bad('Invalid input for field/attribute metadata.');
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string' || key.length === 0 || key.length > 255 || value.length > 255) {
        return bad(`Invalid input for field/attribute metadata. Value: ${key}.`);
      }
    }

    const now = this.now();
    const fault = this.nextBuildFault;
    this.nextBuildFault = undefined;
    const record: DoubleServer = {
      id: randomUUID(),
      name,
      region: context.region,
      status: 'BUILD',
      vmState: 'building',
      powerState: 0,
      taskState: 'scheduling',
      metadata: metadata as Record<string, string>,
      flavorId: flavor.id,
      imageId: imageRef ?? '',
      keyName: typeof keyName === 'string' ? keyName : null,
      securityGroups: groups.map(String),
      networkIds,
      ...(typeof userData === 'string' ? { userData } : {}),
      configDrive: server.config_drive === true || server.config_drive === 'True',
      ...(blockDevices ? { blockDevices } : {}),
      addresses: {},
      created: now,
      updated: now,
      deleted: false,
      transition: {
        status: fault ? 'ERROR' : 'ACTIVE',
        vmState: fault ? 'error' : 'active',
        powerState: fault ? 0 : 1,
        taskState: null,
        readsNeeded: this.buildReads,
        notBefore: now + this.buildDelayMs,
        reads: 0,
        ...(fault ? { fault } : {}),
      },
    };
    this.serverRecords.set(record.id, record);
    const self = `${context.root}/servers/${record.id}`;
    send(
      res,
      202,
      {
        server: {
          id: record.id,
          links: [
            { rel: 'self', href: self },
            { rel: 'bookmark', href: self.replace('/v2.1/', '/') },
          ],
          adminPass: randomBytes(9).toString('base64url'),
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: record.securityGroups.map((group) => ({ name: group })),
        },
      },
      { Location: self },
    );
  }

  private listServers(context: Context, version: readonly [number, number], detail: boolean): void {
    const { res, query } = context;
    const changesSince = query.get('changes-since');
    let since: number | undefined;
    if (changesSince !== null) {
      since = Date.parse(changesSince);
      if (Number.isNaN(since)) {
        const message = `Invalid input for query parameters changes-since. Value: ${changesSince}.`;
        return send(res, 400, { badRequest: { code: 400, message } });
      }
    }
    let nameFilter: RegExp | undefined;
    const name = query.get('name');
    if (name !== null) {
      try {
        nameFilter = new RegExp(name);
      } catch {
        return send(res, 400, { badRequest: { code: 400, message: `Invalid regular expression in name filter: ${name}` } });
      }
    }
    const status = query.get('status');
    const candidates = this.servers(context.region)
      .filter((server) => (since === undefined ? !server.deleted : server.updated >= since))
      .filter((server) => !nameFilter || nameFilter.test(server.name))
      .sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
    for (const server of candidates) this.observe(server);
    const visible = candidates.filter((server) => (since === undefined ? !server.deleted : true));
    const filtered = status ? visible.filter((server) => server.status === status.toUpperCase()) : visible;
    const page = this.page(context, filtered, (server) => server.id, detail ? '/servers/detail' : '/servers');
    if (!page) return;
    send(res, 200, {
      servers: page.items.map((server) =>
        detail ? this.serverView(context, version, server) : { id: server.id, name: server.name, links: this.links(context, server.id) },
      ),
      ...(page.links.length ? { servers_links: page.links } : {}),
    });
  }

  private showServer(context: Context, version: readonly [number, number], id: string): void {
    const server = this.serverRecords.get(id);
    if (!server || server.region !== context.region) return notFound(context.res, `Instance ${id} could not be found.`);
    this.observe(server);
    if (server.deleted) {
      // Nova marks the server DELETED (its record still whole) a moment before the row goes.
      if (!server.deletedReadsLeft) return notFound(context.res, `Instance ${id} could not be found.`);
      server.deletedReadsLeft -= 1;
      return send(context.res, 200, { server: { ...this.serverView(context, version, server), metadata: server.metadata } });
    }
    send(context.res, 200, { server: this.serverView(context, version, server) });
  }

  private deleteServer(context: Context, id: string): void {
    const server = this.serverRecords.get(id);
    if (!server || server.region !== context.region || server.deleted) return notFound(context.res, `Instance ${id} could not be found.`);
    if (server.taskState === 'deleting') return send(context.res, 204, undefined); // already on its way
    const now = this.now();
    server.updated = now;
    const fault = this.nextDeleteFault;
    this.nextDeleteFault = undefined;
    if (fault) {
      server.taskState = 'deleting';
      server.transition = {
        status: 'ERROR',
        vmState: 'error',
        powerState: 0,
        taskState: null,
        readsNeeded: Math.max(this.deleteReads, 1),
        notBefore: now,
        reads: 0,
        fault,
      };
    } else if (this.deleteReads > 0) {
      server.taskState = 'deleting';
      server.transition = {
        status: 'DELETED',
        vmState: 'deleted',
        powerState: 0,
        taskState: null,
        readsNeeded: this.deleteReads,
        notBefore: now,
        reads: 0,
        deleted: true,
      };
    } else {
      Object.assign(server, { status: 'DELETED', vmState: 'deleted', powerState: 0, taskState: null, deleted: true });
      server.deletedReadsLeft = this.deletedReads;
      delete server.transition;
    }
    send(context.res, 204, undefined);
  }

  private serverAction(context: Context, id: string): void {
    const { res, body } = context;
    const server = this.serverRecords.get(id);
    if (!server || server.region !== context.region || server.deleted) return notFound(res, `Instance ${id} could not be found.`);
    this.observe(server);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      return send(res, 400, { badRequest: { code: 400, message: 'Malformed request body' } });
    }
    const [action = ''] = Object.keys(body);
    const conflict = (message: string) => send(res, 409, { conflictingRequest: { code: 409, message } });
    // Nova checks vm_state before task_state, and names the first that is wrong.
    const invalidState = (verb: string, vmStates: string[]) =>
      conflict(
        vmStates.includes(server.vmState)
          ? `Instance ${id} in task_state ${server.taskState}. Cannot ${verb} while the instance is in this state.`
          : `Instance ${id} in vm_state ${server.vmState}. Cannot ${verb} while the instance is in this state.`,
      );
    const begin = (taskState: string, status: string, target: ServerShape) => {
      server.taskState = taskState;
      server.status = status;
      server.updated = this.now();
      server.transition = { ...target, readsNeeded: this.transitionReads, notBefore: this.now() + this.transitionDelayMs, reads: 0 };
      send(res, 202, undefined);
    };
    const running: ServerShape = { status: 'ACTIVE', vmState: 'active', powerState: 1, taskState: null };

    switch (action) {
      case 'os-start':
        if (server.vmState !== 'stopped' || server.taskState) return invalidState('start', ['stopped']);
        return begin('powering-on', server.status, running);
      case 'os-stop':
        if (!['active', 'error', 'rescued'].includes(server.vmState) || server.taskState) {
          return invalidState('stop', ['active', 'error', 'rescued']);
        }
        return begin('powering-off', server.status, { status: 'SHUTOFF', vmState: 'stopped', powerState: 4, taskState: null });
      case 'reboot': {
        const type = field(body.reboot, 'type');
        if (typeof type !== 'string' || !['HARD', 'SOFT'].includes(type.toUpperCase())) {
          return send(res, 400, {
            badRequest: {
              code: 400,
              message:
                `Invalid input for field/attribute type. Value: ${String(type)}. ` +
                `'${String(type)}' is not one of ['HARD', 'Hard', 'SOFT', 'Soft']`,
            },
          });
        }
        const hard = type.toUpperCase() === 'HARD';
        const allowed = hard ? ['active', 'stopped', 'error', 'paused', 'suspended'] : ['active'];
        const taskOk = hard ? !server.taskState || server.taskState.startsWith('reboot') : !server.taskState;
        if (!allowed.includes(server.vmState) || !taskOk) {
          const wrong = allowed.includes(server.vmState) ? `task_state ${server.taskState}` : `vm_state ${server.vmState}`;
          return conflict(`Cannot 'reboot' instance ${id} while it is in ${wrong}`);
        }
        return hard ? begin('reboot_started_hard', 'HARD_REBOOT', running) : begin('reboot_started', 'REBOOT', running);
      }
      default:
        return send(res, 400, { badRequest: { code: 400, message: `There is no such action: ${action}` } });
    }
  }

  /** One read of a server: a pending transition completes once it has been read and waited enough. */
  private observe(server: DoubleServer): void {
    const transition = server.transition;
    if (!transition) return;
    if (transition.reads >= transition.readsNeeded && this.now() >= transition.notBefore) {
      server.status = transition.status;
      server.vmState = transition.vmState;
      server.powerState = transition.powerState;
      server.taskState = transition.taskState;
      server.updated = this.now();
      if (transition.fault) server.fault = { code: 500, message: transition.fault, created: this.now() };
      if (transition.deleted) {
        server.deleted = true;
        server.deletedReadsLeft = this.deletedReads;
      }
      if (server.status === 'ACTIVE' && Object.keys(server.addresses).length === 0) this.assignAddresses(server);
      delete server.transition;
      return;
    }
    transition.reads += 1;
  }

  private serverView(context: Context, version: readonly [number, number], server: DoubleServer): Record<string, unknown> {
    const flavor = this.flavors.find((candidate) => candidate.id === server.flavorId);
    const flavorView = atLeast(version, [2, 47])
      ? {
          original_name: flavor?.name ?? server.flavorId,
          vcpus: flavor?.vcpus ?? 0,
          ram: flavor?.ram ?? 0,
          disk: flavor?.disk ?? 0,
          ephemeral: flavor?.ephemeral ?? 0,
          swap: flavor?.swap ?? 0,
          extra_specs: flavor?.extraSpecs ?? {},
        }
      : { id: server.flavorId, links: [{ rel: 'bookmark', href: `${context.root}/flavors/${server.flavorId}` }] };
    const addresses = Object.fromEntries(
      Object.entries(server.deleted ? {} : server.addresses).map(([network, list]) => [
        network,
        list.map((address) => ({
          addr: address.addr,
          version: address.version,
          'OS-EXT-IPS:type': address.type,
          'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01',
        })),
      ]),
    );
    return {
      id: server.id,
      name: server.name,
      status: server.status,
      tenant_id: PROJECT.id,
      user_id: USER.id,
      // Nova soft-deletes a server's metadata with it: changes-since lists a deleted server bare.
      metadata: server.deleted ? {} : server.metadata,
      hostId: server.status === 'BUILD' ? '' : 'a1b2c3d4e5f6',
      image: server.imageId ? { id: server.imageId, links: [{ rel: 'bookmark', href: `${context.root}/images/${server.imageId}` }] } : '',
      flavor: flavorView,
      created: novaTime(server.created),
      updated: novaTime(server.updated),
      addresses,
      accessIPv4: '',
      accessIPv6: '',
      links: this.links(context, server.id),
      key_name: server.keyName,
      config_drive: server.configDrive ? 'True' : '',
      progress: server.status === 'BUILD' ? 0 : undefined,
      'OS-DCF:diskConfig': 'MANUAL',
      'OS-EXT-AZ:availability_zone': server.status === 'BUILD' ? '' : 'nova',
      'OS-EXT-STS:task_state': server.taskState,
      'OS-EXT-STS:vm_state': server.vmState,
      'OS-EXT-STS:power_state': server.powerState,
      'OS-SRV-USG:launched_at': server.status === 'BUILD' ? null : novaTime(server.created),
      'OS-SRV-USG:terminated_at': server.deleted ? novaTime(server.updated) : null,
      'os-extended-volumes:volumes_attached': [],
      security_groups: server.securityGroups.map((group) => ({ name: group })),
      locked: false,
      tags: [],
      ...(server.fault
        ? { fault: { code: server.fault.code, message: server.fault.message, created: novaTime(server.fault.created) } }
        : {}),
    };
  }

  private links(context: Context, id: string) {
    return [
      { rel: 'self', href: `${context.root}/servers/${id}` },
      { rel: 'bookmark', href: `${context.root.replace(/\/v2\.1$/, '')}/servers/${id}` },
    ];
  }

  private listFlavors(context: Context, version: readonly [number, number], detail: boolean): void {
    const sorted = [...this.flavors].sort((a, b) => a.id.localeCompare(b.id));
    const page = this.page(context, sorted, (flavor) => flavor.id, detail ? '/flavors/detail' : '/flavors');
    if (!page) return;
    send(context.res, 200, {
      flavors: page.items.map((flavor) => this.flavorView(context, version, flavor, detail)),
      ...(page.links.length ? { flavors_links: page.links } : {}),
    });
  }

  private flavorView(context: Context, version: readonly [number, number], flavor: DoubleFlavor, detail: boolean) {
    const links = [{ rel: 'self', href: `${context.root}/flavors/${flavor.id}` }];
    if (!detail) return { id: flavor.id, name: flavor.name, links };
    return {
      id: flavor.id,
      name: flavor.name,
      vcpus: flavor.vcpus,
      ram: flavor.ram,
      disk: flavor.disk,
      'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral ?? 0,
      'OS-FLV-DISABLED:disabled': false,
      swap: flavor.swap ? flavor.swap : '',
      rxtx_factor: 1.0,
      'os-flavor-access:is_public': flavor.isPublic ?? true,
      links,
      // Extra specs are embedded from 2.61 on; below that clients ask os-extra_specs.
      ...(atLeast(version, [2, 61]) ? { extra_specs: flavor.extraSpecs ?? {} } : {}),
    };
  }

  private listKeyPairs(context: Context): void {
    const sorted = [...this.keyPairs].sort((a, b) => a.name.localeCompare(b.name));
    const page = this.page(context, sorted, (keyPair) => keyPair.name, '/os-keypairs');
    if (!page) return;
    send(context.res, 200, {
      keypairs: page.items.map((keyPair) => ({
        keypair: { name: keyPair.name, public_key: keyPair.publicKey, fingerprint: keyPair.fingerprint, type: keyPair.type ?? 'ssh' },
      })),
      ...(page.links.length ? { keypairs_links: page.links } : {}),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Glance

  private image(context: Context): void {
    const { req, res, record, query } = context;
    const notFoundHtml = (message: string) =>
      send(
        res,
        404,
        '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n' +
          `  ${message}<br /><br />\n\n\n\n </body>\n</html>`,
        {},
        'text/html; charset=UTF-8',
      );
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed', {}, 'text/plain');
    if (record.resource === '/v2/images') {
      const filtered = this.images
        .filter((image) => !query.get('name') || image.name === query.get('name'))
        .filter((image) => !query.get('status') || image.status === query.get('status'))
        .filter((image) => !query.get('visibility') || image.visibility === query.get('visibility'))
        .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || b.id.localeCompare(a.id));
      const limit = Math.min(Number(query.get('limit') ?? 25) || 25, this.maxPageSize);
      const marker = query.get('marker');
      let start = 0;
      if (marker) {
        const index = filtered.findIndex((image) => image.id === marker);
        if (index === -1) {
          const page = `<html><body><h1>400 Bad Request</h1>marker ${marker} could not be found.</body></html>`;
          return send(res, 400, page, {}, 'text/html');
        }
        start = index + 1;
      }
      const items = filtered.slice(start, start + limit);
      const body: Record<string, unknown> = {
        images: items.map((image) => imageView(image)),
        first: '/v2/images',
        schema: '/v2/schemas/images',
      };
      const last = items[items.length - 1];
      if (items.length === limit && last) {
        const next = new URLSearchParams(query);
        next.set('marker', last.id);
        next.set('limit', String(limit));
        body.next = `/v2/images?${next.toString()}`;
      }
      return send(res, 200, body);
    }
    const match = /^\/v2\/images\/([^/]+)$/.exec(record.resource);
    if (match) {
      const image = this.images.find((candidate) => candidate.id === decodeURIComponent(match[1] ?? ''));
      return image ? send(res, 200, imageView(image)) : notFoundHtml(`No image found with ID ${match[1]}`);
    }
    return notFoundHtml('The resource could not be found.');
  }

  // ---------------------------------------------------------------------------------------------
  // Neutron

  private network(context: Context): void {
    const { req, res, record } = context;
    const neutronNotFound = (type: string, message: string) =>
      send(res, 404, { NeutronError: { type, message, detail: '' } });
    if (req.method !== 'GET') {
      return send(res, 405, { NeutronError: { type: 'HTTPMethodNotAllowed', message: 'Method not allowed', detail: '' } });
    }
    const collections: Record<string, { key: string; items: () => Record<string, unknown>[]; type: string }> = {
      networks: { key: 'networks', items: () => this.networks.map((network) => this.networkView(network)), type: 'Network' },
      subnets: { key: 'subnets', items: () => this.subnets.map(subnetView), type: 'Subnet' },
      'security-groups': {
        key: 'security_groups',
        items: () => this.securityGroups.map(securityGroupView),
        type: 'SecurityGroup',
      },
    };
    const match = /^\/v2\.0\/([a-z-]+)(?:\/([^/]+))?$/.exec(record.resource);
    const collection = match ? collections[match[1] ?? ''] : undefined;
    if (!match || !collection) return neutronNotFound('HTTPNotFound', 'The resource could not be found.');
    const all = collection.items().sort((a, b) => String(a.id).localeCompare(String(b.id)));
    if (match[2]) {
      const id = decodeURIComponent(match[2]);
      const item = all.find((candidate) => candidate.id === id);
      const singular = collection.key.replace(/s$/, '');
      if (item) return send(res, 200, { [singular]: item });
      return neutronNotFound(`${collection.type}NotFound`, `${collection.type} ${id} could not be found.`);
    }
    // Any attribute is a filter (name=private, id=…, network_id=…), as in Neutron.
    const paging = ['limit', 'marker', 'page_reverse', 'fields', 'sort_key', 'sort_dir'];
    const filters = [...context.query].filter(([key]) => !paging.includes(key));
    const filtered = all.filter((item) => filters.every(([key, value]) => String(item[key]) === value));
    const page = this.page(context, filtered, (item) => String(item.id), `/v2.0/${match[1]}`, true);
    if (!page) return;
    send(res, 200, { [collection.key]: page.items, ...(page.links.length ? { [`${collection.key}_links`]: page.links } : {}) });
  }

  private networkView(network: DoubleNetwork): Record<string, unknown> {
    return {
      id: network.id,
      name: network.name,
      status: 'ACTIVE',
      admin_state_up: true,
      shared: network.shared ?? false,
      'router:external': network.external ?? false,
      mtu: network.mtu ?? 1450,
      subnets: this.subnets.filter((subnet) => subnet.networkId === network.id).map((subnet) => subnet.id),
      tenant_id: PROJECT.id,
      project_id: PROJECT.id,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Shared machinery

  /**
   * Marker pagination: items after `marker`, at most min(limit, maxPageSize); a next link when
   * the page is full (Nova, Neutron: absolute, keeping the other query parameters). Neutron
   * only paginates when asked for a limit and also gives a previous link after a marker.
   */
  private page<T>(
    context: Context,
    items: T[],
    idOf: (item: T) => string,
    resource: string,
    neutron = false,
  ): { items: T[]; links: Array<{ rel: string; href: string }> } | undefined {
    const { query, res } = context;
    const asked = query.get('limit');
    const limit = Math.min(asked !== null ? Number(asked) : this.maxPageSize, this.maxPageSize);
    if (!Number.isInteger(limit) || limit < 0) {
      send(res, 400, { badRequest: { code: 400, message: `Invalid input for query parameters limit. Value: ${asked}.` } });
      return undefined;
    }
    const marker = query.get('marker');
    let start = 0;
    if (marker !== null) {
      const index = items.findIndex((item) => idOf(item) === marker);
      if (index === -1) {
        const message = `marker [${marker}] not found`;
        send(res, 400, neutron ? { NeutronError: { type: 'BadRequest', message, detail: '' } } : { badRequest: { code: 400, message } });
        return undefined;
      }
      start = index + 1;
    }
    const pageItems = items.slice(start, start + limit);
    const links: Array<{ rel: string; href: string }> = [];
    const last = pageItems[pageItems.length - 1];
    const paginate = !neutron || asked !== null;
    if (paginate && last && pageItems.length === limit) {
      const next = new URLSearchParams(query);
      next.set('limit', String(limit));
      next.set('marker', idOf(last));
      links.push({ rel: 'next', href: `${context.root}${resource}?${next.toString()}` });
    }
    const first = pageItems[0];
    if (neutron && marker !== null && first) {
      const previous = new URLSearchParams(query);
      previous.set('marker', idOf(first));
      previous.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: `${context.root}${resource}?${previous.toString()}` });
    }
    return { items: pageItems, links };
  }

  private autoNetwork(): string[] {
    const network = this.networks.find((candidate) => !candidate.external && !candidate.shared) ?? this.networks[0];
    return network ? [network.id] : [];
  }

  private assignAddresses(server: DoubleServer): void {
    this.addressCounter += 1;
    const n = this.addressCounter;
    server.networkIds.forEach((networkId, index) => {
      const network = this.networks.find((candidate) => candidate.id === networkId);
      if (!network) return;
      const list: DoubleAddress[] = [];
      for (const subnet of this.subnets.filter((candidate) => candidate.networkId === networkId)) {
        list.push({ addr: hostIn(subnet, n), version: subnet.ipVersion, type: 'fixed' });
      }
      if (index === 0 && this.floatingIps && !network.external) {
        list.push({ addr: `172.24.4.${(n % 250) + 2}`, version: 4, type: 'floating' });
      }
      server.addresses[network.name] = list;
    });
  }

  private requireServer(id: string): DoubleServer {
    const server = this.serverRecords.get(id);
    if (!server) throw new Error(`OpenStackDouble: no server ${id}`);
    return server;
  }

  private seed(): void {
    const t0 = this.now() - 86_400_000;
    this.flavors.push(
      { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
      { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, extraSpecs: { 'hangar:price_per_hour': '0.0200' } },
      {
        id: '3',
        name: 'm1.medium',
        vcpus: 2,
        ram: 4096,
        disk: 40,
        extraSpecs: { 'hangar:price_per_hour': '0.0450', 'hw:cpu_policy': 'shared' },
      },
      { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80, swap: 1024 },
      {
        id: 'g1.a100',
        name: 'g1.a100',
        vcpus: 8,
        ram: 65_536,
        disk: 100,
        extraSpecs: { 'pci_passthrough:alias': 'a100:1', 'hangar:price_per_hour': '2.50' },
      },
      { id: 'v1', name: 'v1.volume', vcpus: 2, ram: 4096, disk: 0 },
    );
    const image = (name: string, status: string, osDistro: string, size: number, minDisk: number, createdAt: number) =>
      ({ id: randomUUID(), name, status, visibility: 'public', diskFormat: 'qcow2', size, minDisk, minRam: 0, osDistro, createdAt });
    this.images.push(
      image('cirros-0.6.2-x86_64-disk', 'active', 'cirros', 21_430_272, 0, t0),
      image('ubuntu-24.04', 'active', 'ubuntu', 600_000_000, 10, t0 + 1000),
      image('centos-7', 'deactivated', 'centos', 900_000_000, 10, t0 + 2000),
    );
    const priv = this.addNetwork({ name: 'private', mtu: 1450 });
    const pub = this.addNetwork({ name: 'public', external: true, mtu: 1500 });
    const shared = this.addNetwork({ name: 'shared', shared: true });
    this.addSubnet({ name: 'private-subnet', networkId: priv.id, cidr: '10.0.0.0/26', ipVersion: 4, gatewayIp: '10.0.0.1' });
    this.addSubnet({
      name: 'ipv6-private-subnet',
      networkId: priv.id,
      cidr: 'fd12:3456:789a:1::/64',
      ipVersion: 6,
      gatewayIp: 'fd12:3456:789a:1::1',
    });
    this.addSubnet({ name: 'public-subnet', networkId: pub.id, cidr: '172.24.4.0/24', ipVersion: 4, gatewayIp: '172.24.4.1' });
    this.addSubnet({ name: 'shared-subnet', networkId: shared.id, cidr: '192.168.233.0/24', ipVersion: 4, gatewayIp: '192.168.233.1' });
    this.addSecurityGroup({ name: 'default', description: 'Default security group' });
    this.addSecurityGroup({ name: 'web', description: 'HTTP and HTTPS in' });
    this.addKeyPair('hangar-key');
  }
}

function imageView(image: DoubleImage): Record<string, unknown> {
  return {
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility ?? 'public',
    protected: false,
    disk_format: image.diskFormat ?? 'qcow2',
    container_format: 'bare',
    size: image.size ?? null,
    min_disk: image.minDisk ?? 0,
    min_ram: image.minRam ?? 0,
    ...(image.osDistro ? { os_distro: image.osDistro } : {}),
    tags: [],
    created_at: new Date(image.createdAt ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    updated_at: new Date(image.createdAt ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}

function subnetView(subnet: DoubleSubnet): Record<string, unknown> {
  return {
    id: subnet.id,
    name: subnet.name,
    network_id: subnet.networkId,
    cidr: subnet.cidr,
    ip_version: subnet.ipVersion,
    gateway_ip: subnet.gatewayIp ?? null,
    enable_dhcp: true,
    tenant_id: PROJECT.id,
    project_id: PROJECT.id,
  };
}

function securityGroupView(group: DoubleSecurityGroup): Record<string, unknown> {
  return {
    id: group.id,
    name: group.name,
    description: group.description ?? '',
    security_group_rules: [
      { id: `${group.id}-egress-v4`, direction: 'egress', ethertype: 'IPv4', security_group_id: group.id },
      { id: `${group.id}-egress-v6`, direction: 'egress', ethertype: 'IPv6', security_group_id: group.id },
    ],
    tenant_id: PROJECT.id,
    project_id: PROJECT.id,
  };
}

/** A host address in a subnet: the n-th after .10 (IPv4) or ::n (IPv6). */
function hostIn(subnet: DoubleSubnet, n: number): string {
  if (subnet.ipVersion === 6) return `${subnet.cidr.split('::')[0]}::${(n + 16).toString(16)}`;
  const [base = '0.0.0.0'] = subnet.cidr.split('/');
  const octets = base.split('.').map(Number);
  octets[3] = ((octets[3] ?? 0) + 10 + n) % 254;
  return octets.join('.');
}

/** "compute 2.47", "2.47" or "latest" → [2, 47]; absent → 2.1; undefined when unsupported. */
function microversion(headers: Record<string, string>): readonly [number, number] | undefined {
  const header = headers['openstack-api-version'];
  let asked: string | undefined;
  if (header) {
    const match = /(?:^|,)\s*compute\s+([^,\s]+)/i.exec(header);
    asked = match?.[1];
  }
  asked ??= headers['x-openstack-nova-api-version'];
  if (!asked) return MIN_MICROVERSION;
  if (asked === 'latest') return MAX_MICROVERSION;
  const match = /^(\d+)\.(\d+)$/.exec(asked);
  if (!match) return undefined;
  const version = [Number(match[1]), Number(match[2])] as const;
  return atLeast(version, MIN_MICROVERSION) && atLeast(MAX_MICROVERSION, version) ? version : undefined;
}

function atLeast(version: readonly [number, number], floor: readonly [number, number]): boolean {
  return version[0] > floor[0] || (version[0] === floor[0] && version[1] >= floor[1]);
}

/** Keystone writes microseconds: 2026-01-01T00:00:00.000000Z. */
function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** Nova writes whole seconds: 2026-01-01T00:00:00Z. */
function novaTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0;
}

function notFound(res: ServerResponse, message: string): void {
  send(res, 404, { itemNotFound: { code: 404, message } });
}

/** Lets send() note the status on the request's record before the client can see the answer. */
const recordsByResponse = new WeakMap<ServerResponse, RecordedRequest>();

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): void {
  const record = recordsByResponse.get(res);
  if (record) record.status = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

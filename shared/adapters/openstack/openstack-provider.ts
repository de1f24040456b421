import { ProviderError, ValidationError } from '../../domain/errors.ts';
import type {
  CatalogItem,
  CatalogKind,
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
} from '../../ports/compute-provider.ts';
import { ipsOf } from './addresses.ts';
import {
  flavorItem,
  imageItem,
  keyPairItem,
  networkItem,
  securityGroupItem,
  subnetItem,
} from './catalog-items.ts';
import { listImages, resolveImage } from './glance.ts';
import { HttpTransport, OpenStackApiError } from './http.ts';
import { KeystoneSession, type EndpointInterface, type OpenStackCredentials, type ServiceType } from './keystone.ts';
import { listNetworks, listSecurityGroups, listSubnets, resolveNetwork } from './neutron.ts';
import {
  COMPUTE_HEADERS,
  createServer,
  deleteServer,
  exactNameFilter,
  flavorExtraSpecs,
  getServer,
  listFlavors,
  listKeyPairs,
  listServers,
  resolveFlavor,
  serverAction,
  type NovaFlavor,
  type NovaServer,
  type NovaServerCreate,
} from './nova.ts';
import { machineStateOf } from './states.ts';

export { toOpenStackCredentials, type OpenStackCredentials } from './keystone.ts';

export interface OpenStackProviderOptions {
  region: string;
  credentials: OpenStackCredentials;
  /** Which catalog endpoints to call (default 'public'; 'internal' from inside the cloud). */
  interface?: EndpointInterface;
  fetch?: typeof fetch;
  clock?: () => Date;
  /** The longest Retry-After waited out inside one call before answering 'throttled' (default 10 s). */
  maxRetryAfterMs?: number;
  /** Timeout of one HTTP exchange (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * The Hangar deployment (stage) this adapter acts for: stamped on every server as
   * `hangar:deployment`, and listOwned() sees only servers that carry it. Unset, every server
   * with Hangar's mark is listed (one deployment per project).
   */
  deployment?: string;
  /** Renew a cached token this long before it expires (default 2 minutes). */
  tokenRenewBeforeMs?: number;
  /**
   * How long terminate() waits for Nova to finish a delete (default 20 s, within a workflow
   * step's time); a server still deleting after that is left to the caller's confirmation poll.
   */
  deleteWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Server metadata that marks a server as launched by Hangar for one instance. */
export const OWNER_METADATA_KEY = 'hangar:instance-id';
export const CLIENT_METADATA_KEY = 'hangar:client';
/** Which Hangar deployment launched the server: stages sharing one project keep apart. */
export const DEPLOYMENT_METADATA_KEY = 'hangar:deployment';

/** Nova's limits: metadata keys 1–255 and values 0–255 characters; user_data 65535 base64 characters. */
const METADATA_MAX_LENGTH = 255;
const METADATA_MAX_ITEMS = 128;
const USER_DATA_MAX_LENGTH = 65_535;
/** Flavors whose extra specs are fetched at once while listing the catalog. */
const EXTRA_SPECS_CONCURRENCY = 4;
const DEFAULT_DELETE_WAIT_MS = 20_000;
/** terminate() looks again after 100 ms, then twice as long each time, at most every second. */
const DELETE_POLL_FIRST_MS = 100;
const DELETE_POLL_MAX_MS = 1000;

/**
 * The OPENSTACK provider: Keystone v3 for tokens and endpoints, Nova for servers, flavors and
 * key pairs, Glance for images, Neutron for networks, subnets and security groups — plain HTTPS
 * with global fetch. One instance serves one account (credentials) in one region.
 *
 * Ownership: every server carries metadata `hangar:instance-id` (the Hangar id),
 * `hangar:client` and, when given, `hangar:deployment`, plus the instance's tags. Nova has no idempotency token, so launch() looks for
 * a server with the same name and that metadata before creating one, and after creating looks
 * again: if a concurrent launch created a twin, the older server (created, then id) is kept and
 * the younger deleted. Servers renamed by hand between two launches escape the lookup.
 */
export class OpenStackProvider implements ComputeProvider {
  readonly name = 'OPENSTACK' as const;
  readonly region: string;
  private readonly deployment: string | undefined;
  private readonly session: KeystoneSession;
  private readonly credentials: OpenStackCredentials;
  /** Concurrent launches of one instance in this process share one attempt. */
  private readonly launching = new Map<string, Promise<Machine>>();
  private readonly deleteWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: OpenStackProviderOptions) {
    this.region = options.region;
    this.deployment = options.deployment;
    this.credentials = options.credentials;
    this.deleteWaitMs = options.deleteWaitMs ?? DEFAULT_DELETE_WAIT_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const clock = options.clock ?? (() => new Date());
    const transport = new HttpTransport({
      fetch: options.fetch ?? globalThis.fetch,
      clock,
      ...(options.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: options.maxRetryAfterMs } : {}),
      ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    this.session = new KeystoneSession({
      credentials: options.credentials,
      region: options.region,
      interface: options.interface ?? 'public',
      transport,
      clock,
      ...(options.tokenRenewBeforeMs !== undefined ? { renewBeforeMs: options.tokenRenewBeforeMs } : {}),
    });
  }

  checkLaunchSpec(spec: LaunchSpec): void {
    this.checkRegion(spec.region);
    if (!spec.image) throw invalid('An OpenStack instance needs an image (a Glance image name or id)');
    if (!spec.name.trim()) throw invalid('An OpenStack server needs a name');
    const metadata = metadataFor(spec, this.deployment);
    const own = Object.keys(metadataFor({ ...spec, tags: {} }, this.deployment)).length;
    if (Object.keys(metadata).length > METADATA_MAX_ITEMS) {
      throw invalid(`Too many tags for OpenStack server metadata (at most ${METADATA_MAX_ITEMS - own})`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (key.length === 0 || key.length > METADATA_MAX_LENGTH || value.length > METADATA_MAX_LENGTH) {
        throw invalid(`Tag '${key.slice(0, 40)}' does not fit OpenStack metadata (keys 1–255, values up to 255 characters)`);
      }
    }
    if (spec.userData !== undefined && encodeUserData(spec.userData).length > USER_DATA_MAX_LENGTH) {
      throw invalid(`userData is too large for OpenStack (at most ${USER_DATA_MAX_LENGTH} characters once base64-encoded)`);
    }
  }

  /**
   * A disk larger than the flavor's makes launch() boot from a volume, which needs Cinder: on a
   * cloud whose catalog lists no volume service, Nova would only fail the build later. Refused
   * here instead, naming flavors whose own disk is large enough. A cloud that cannot be read
   * just now (or a flavor it does not know) is left to the launch, which retries and reports.
   */
  async preflight(spec: LaunchSpec): Promise<void> {
    const disk = spec.diskSizeGB;
    if (disk === undefined) return;
    let flavors: NovaFlavor[];
    try {
      if (await this.session.offers(VOLUME_SERVICE_TYPES)) return;
      flavors = await listFlavors(this.session);
    } catch (error) {
      if (error instanceof ProviderError) return;
      throw error;
    }
    const flavor = flavors.find((f) => f.id === spec.instanceType) ?? flavors.find((f) => f.name === spec.instanceType);
    if (!flavor || !needsBootVolume(disk, flavor)) return;
    const suggested = flavorsHolding(disk, flavor, flavors).slice(0, 3);
    const has = flavor.disk === 0 ? 'has no disk of its own' : `has a ${flavor.disk} GB disk`;
    const instead = suggested.length
      ? `choose a flavor with a large enough disk, e.g. ${suggested.map((f) => `${f.name} (${f.disk} GB, ${f.vcpus} vCPU, ${Math.round(f.ram / 1024)} GiB)`).join(', ')}`
      : `no flavor here has a disk of ${disk} GB (the largest is ${Math.max(0, ...flavors.map((f) => f.disk))} GB)`;
    throw new ValidationError(
      `OpenStack region ${this.region} has no volume service, so a ${disk} GB disk cannot be attached to flavor ${flavor.name}, which ${has}: ` +
        `${instead}${flavor.disk > 0 ? `, or ask for at most ${flavor.disk} GB` : ''}`,
      [{ path: 'config.diskSizeGB', message: `larger than flavor ${flavor.name}'s ${flavor.disk} GB disk and no volume service` }],
      'DISK_EXCEEDS_FLAVOR',
    );
  }

  launch(spec: LaunchSpec): Promise<Machine> {
    const running = this.launching.get(spec.instanceId);
    if (running) return running;
    const attempt = this.launchOnce(spec).finally(() => this.launching.delete(spec.instanceId));
    this.launching.set(spec.instanceId, attempt);
    return attempt;
  }

  async describe(ref: MachineRef): Promise<Machine | null> {
    this.checkRegion(ref.region);
    const server = await getServer(this.session, ref.providerInstanceId);
    return server ? toMachine(server) : null;
  }

  /** Hangar's mark, and this deployment's when it has one. */
  private owns(server: NovaServer): boolean {
    const metadata = server.metadata ?? {};
    return typeof metadata[OWNER_METADATA_KEY] === 'string' && (!this.deployment || metadata[DEPLOYMENT_METADATA_KEY] === this.deployment);
  }

  async listOwned(): Promise<Machine[]> {
    const servers = await listServers(this.session);
    return servers.filter((server) => this.owns(server)).flatMap((server) => {
      const machine = toMachine(server);
      return machine ? [machine] : [];
    });
  }

  /**
   * Servers that changed since `since` (Nova's changes-since), for the sync service: the owned
   * ones, and every server deleted since then as state 'terminated'. Nova drops a deleted
   * server's metadata (and addresses), so a deleted server cannot show it was ours: it comes
   * without instanceId, to be matched by providerInstanceId.
   */
  async listChangedSince(since: Date): Promise<Machine[]> {
    const servers = await listServers(this.session, { 'changes-since': since.toISOString() });
    return servers.flatMap((server) => {
      const machine = toMachine(server);
      if (!machine) return [{ ...baseMachine(server), state: 'terminated' as const }];
      return this.owns(server) ? [machine] : [];
    });
  }

  /** os-start; a server already running or powering on counts as started. */
  async start(ref: MachineRef): Promise<void> {
    await this.act(ref, 'start', { 'os-start': null }, (server) =>
      (server.status === 'ACTIVE' && !taskStateOf(server)) || taskStateOf(server) === 'powering-on',
    );
  }

  /**
   * os-stop. `force` sends the same action: Nova's API has no forced power-off; os-stop asks the
   * guest to shut down and powers it off after the cloud's shutdown_timeout (60 s by default).
   * A server already shut off or powering off counts as stopped.
   */
  async stop(ref: MachineRef, _options?: { force?: boolean }): Promise<void> {
    await this.act(ref, 'stop', { 'os-stop': null }, (server) =>
      server.status === 'SHUTOFF' || server.status === 'STOPPED' || taskStateOf(server) === 'powering-off',
    );
  }

  /** reboot SOFT (guest ACPI) or HARD (power cycle); a reboot already under way counts. */
  async reboot(ref: MachineRef, options?: { hard?: boolean }): Promise<void> {
    await this.act(ref, 'reboot', { reboot: { type: options?.hard ? 'HARD' : 'SOFT' } }, (server) =>
      server.status === 'REBOOT' || server.status === 'HARD_REBOOT' || /^reboot/.test(taskStateOf(server) ?? ''),
    );
  }

  /**
   * DELETE the server, then wait (at most deleteWaitMs) until Nova answers 404 or shows it
   * DELETED (a moment before the 404): a server in task_state deleting still holds its port
   * and quota, and Nova may yet fail the delete and put it in ERROR. Gone already, or being
   * deleted, is success. The server is read first and must carry this instance's ownership
   * mark: a wrong providerInstanceId must never delete somebody else's server.
   */
  async terminate(ref: MachineRef): Promise<void> {
    this.checkRegion(ref.region);
    const server = await getServer(this.session, ref.providerInstanceId);
    if (!server || machineStateOf(statusOf(server)) === null) return; // gone
    if (taskStateOf(server) !== 'deleting') {
      const owner = server.metadata?.[OWNER_METADATA_KEY];
      if (owner !== ref.instanceId) {
        throw new ProviderError(
          `OpenStack server ${server.id} is marked ${owner ? `for Hangar instance ${owner}` : 'as not launched by Hangar'}, ` +
            `not for ${ref.instanceId}; refusing to delete it`,
          'fatal',
        );
      }
      try {
        await deleteServer(this.session, ref.providerInstanceId);
      } catch (error) {
        if (!(isConflict(error) && (await this.serverIs(ref.providerInstanceId, (s) => taskStateOf(s) === 'deleting')))) throw error;
      }
    }
    await this.waitUntilDeleted(ref);
  }

  /**
   * Poll until Nova no longer has the server. A delete Nova gave up on (ERROR, no task) is a
   * 'transient' error, so the workflow sends DELETE again; still deleting when the wait is over
   * returns quietly: describe() says 'stopping' until the server is gone.
   */
  private async waitUntilDeleted(ref: MachineRef): Promise<void> {
    let waited = 0;
    let pause = DELETE_POLL_FIRST_MS;
    for (;;) {
      const server = await getServer(this.session, ref.providerInstanceId);
      if (!server || machineStateOf(statusOf(server)) === null) return;
      if (server.status.toUpperCase() === 'ERROR' && taskStateOf(server) !== 'deleting') {
        throw new ProviderError(
          `OpenStack could not delete server ${server.id}: ${server.fault?.message?.trim() || 'Nova put it in ERROR'}`,
          'transient',
        );
      }
      if (waited >= this.deleteWaitMs) return;
      await this.sleep(pause);
      waited += pause;
      pause = Math.min(pause * 2, DELETE_POLL_MAX_MS);
    }
  }

  /**
   * Authenticate afresh, check the catalog offers compute, image and network in this region and
   * interface, and make one harmless Nova call with the token. Every failure reads
   * "Cannot connect to OpenStack at <authUrl>: …"; refused credentials are kind 'auth'.
   */
  async testConnection(): Promise<void> {
    const prefix = `Cannot connect to OpenStack at ${this.credentials.authUrl}: `;
    try {
      const token = await this.session.token(true);
      for (const service of ['compute', 'image', 'network'] as ServiceType[]) await this.session.endpoint(service, token);
      await this.session.request('compute', { method: 'GET', path: '/servers', query: { limit: 1 }, headers: COMPUTE_HEADERS });
    } catch (error) {
      if (error instanceof ProviderError && !error.message.startsWith(prefix)) {
        throw new ProviderError(`${prefix}${error.message}`, error.kind);
      }
      throw error;
    }
  }

  async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    const region = this.region;
    switch (kind) {
      case 'flavors': {
        const flavors = await listFlavors(this.session);
        const specs = await mapLimited(flavors, EXTRA_SPECS_CONCURRENCY, (flavor) =>
          flavor.extra_specs ? Promise.resolve(flavor.extra_specs) : flavorExtraSpecs(this.session, flavor.id),
        );
        return flavors.map((flavor, index) => flavorItem(flavor, specs[index] ?? {}, region));
      }
      case 'images':
        // Only active images can boot a server; queued, saving or deactivated ones are left out.
        return (await listImages(this.session, { status: 'active' })).map((image) => imageItem(image, region));
      case 'networks':
        return (await listNetworks(this.session)).map((network) => networkItem(network, region));
      case 'subnets':
        return (await listSubnets(this.session)).map((subnet) => subnetItem(subnet, region));
      case 'securityGroups':
        return (await listSecurityGroups(this.session)).map((group) => securityGroupItem(group, region));
      case 'keyPairs':
        return (await listKeyPairs(this.session)).map((keyPair) => keyPairItem(keyPair, region));
    }
  }

  private async launchOnce(spec: LaunchSpec): Promise<Machine> {
    this.checkLaunchSpec(spec);
    const existing = await this.findLaunched(spec);
    if (existing) return toMachine(existing) ?? { ...baseMachine(existing), state: 'terminated' };

    const [flavor, image, networks] = await Promise.all([
      resolveFlavor(this.session, spec.instanceType, this.region),
      resolveImage(this.session, spec.image ?? '', this.region),
      Promise.all((spec.networks ?? []).map((network) => resolveNetwork(this.session, network, this.region))),
    ]);
    const id = await createServer(this.session, createBody(spec, flavor, image.id, networks.map((network) => network.id), this.deployment));

    const twins = await this.findAllLaunched(spec);
    const winner = twins[0];
    if (winner && winner.id !== id) {
      // A concurrent launch got there first: keep the older server, release ours.
      await deleteServer(this.session, id).catch(() => undefined);
      return toMachine(winner) ?? { ...baseMachine(winner), state: 'pending' };
    }
    const mine = twins.find((server) => server.id === id);
    if (mine) return toMachine(mine) ?? { ...baseMachine(mine), state: 'pending' };
    return { providerInstanceId: id, instanceId: spec.instanceId, state: 'pending' };
  }

  private async findLaunched(spec: LaunchSpec): Promise<NovaServer | undefined> {
    return (await this.findAllLaunched(spec))[0];
  }

  /** Live servers launched for this instance, oldest first; one being deleted is not reused. */
  private async findAllLaunched(spec: LaunchSpec): Promise<NovaServer[]> {
    const named = await listServers(this.session, { name: exactNameFilter(spec.name) });
    return named
      .filter((server) => server.metadata?.[OWNER_METADATA_KEY] === spec.instanceId)
      .filter((server) => machineStateOf(statusOf(server)) !== null && taskStateOf(server) !== 'deleting')
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
  }

  /**
   * Send a server action. Nova answers 409 when the server is in the wrong state for it; when
   * that state is the action's own outcome the call succeeded already, otherwise Nova's message
   * goes to the caller as 'invalid-request'.
   */
  private async act(
    ref: MachineRef,
    verb: string,
    action: Record<string, unknown>,
    alreadyDone: (server: NovaServer) => boolean,
  ): Promise<void> {
    this.checkRegion(ref.region);
    try {
      await serverAction(this.session, ref.providerInstanceId, action);
    } catch (error) {
      if (isConflict(error) && (await this.serverIs(ref.providerInstanceId, alreadyDone))) return;
      if (error instanceof ProviderError && error.kind === 'not-found') {
        throw new ProviderError(
          `Cannot ${verb} ${ref.instanceId}: OpenStack server ${ref.providerInstanceId} does not exist`,
          'not-found',
        );
      }
      throw error;
    }
  }

  private async serverIs(id: string, predicate: (server: NovaServer) => boolean): Promise<boolean> {
    const server = await getServer(this.session, id);
    return server !== null && predicate(server);
  }

  private checkRegion(region: string | undefined): void {
    if (region && region !== this.region) {
      throw invalid(`This OpenStack account is set up for region ${this.region}, not ${region}`);
    }
  }
}

/** Launch facts → Nova's create body. */
function createBody(spec: LaunchSpec, flavor: NovaFlavor, imageId: string, networkIds: string[], deployment: string | undefined): NovaServerCreate {
  // The flavor's root disk is used unless a larger disk is asked for (or the flavor has none):
  // then the server boots from a new volume of that size, deleted with the server.
  const bootVolume = spec.diskSizeGB !== undefined && needsBootVolume(spec.diskSizeGB, flavor);
  return {
    name: spec.name,
    flavorRef: flavor.id,
    ...(bootVolume
      ? {
          block_device_mapping_v2: [
            {
              boot_index: 0,
              uuid: imageId,
              source_type: 'image',
              destination_type: 'volume',
              volume_size: spec.diskSizeGB,
              delete_on_termination: true,
            },
          ],
        }
      : { imageRef: imageId }),
    // From microversion 2.37 networks are required; "auto" lets Nova pick or create the project's network.
    networks: networkIds.length ? networkIds.map((uuid) => ({ uuid })) : 'auto',
    ...(spec.keyPair ? { key_name: spec.keyPair } : {}),
    ...(spec.securityGroups?.length ? { security_groups: spec.securityGroups.map((name) => ({ name })) } : {}),
    ...(spec.userData !== undefined ? { user_data: encodeUserData(spec.userData), config_drive: true } : {}),
    metadata: metadataFor(spec, deployment),
  };
}

/** The Keystone service types of Cinder, current and legacy (service-types-authority). */
const VOLUME_SERVICE_TYPES = ['block-storage', 'volumev3', 'volumev2', 'volume'];

/** A disk the flavor's own root disk cannot hold is a boot volume. */
function needsBootVolume(diskSizeGB: number, flavor: NovaFlavor): boolean {
  return flavor.disk === 0 || diskSizeGB > flavor.disk;
}

/**
 * Flavors whose own disk holds `disk` GB, those at least as large as `wanted` in vCPUs and RAM
 * first, then the smallest disk, vCPUs and RAM first: the nearest replacement leads.
 */
export function flavorsHolding(disk: number, wanted: Pick<NovaFlavor, 'vcpus' | 'ram'>, flavors: readonly NovaFlavor[]): NovaFlavor[] {
  const covers = (f: NovaFlavor) => (f.vcpus >= wanted.vcpus && f.ram >= wanted.ram ? 0 : 1);
  return flavors
    .filter((f) => f.disk >= disk)
    .sort((a, b) => covers(a) - covers(b) || a.disk - b.disk || a.vcpus - b.vcpus || a.ram - b.ram || a.name.localeCompare(b.name));
}

/** Tags first, then Hangar's own keys, so a tag can never forge the ownership mark. */
function metadataFor(spec: LaunchSpec, deployment: string | undefined): Record<string, string> {
  return {
    ...spec.tags,
    [OWNER_METADATA_KEY]: spec.instanceId,
    [CLIENT_METADATA_KEY]: spec.clientId,
    ...(deployment ? { [DEPLOYMENT_METADATA_KEY]: deployment } : {}),
  };
}

function encodeUserData(userData: string): string {
  return Buffer.from(userData, 'utf8').toString('base64');
}



function taskStateOf(server: NovaServer): string | null {
  return server['OS-EXT-STS:task_state'] ?? null;
}

function statusOf(server: NovaServer) {
  return { status: server.status, taskState: taskStateOf(server), faultMessage: server.fault?.message };
}

function baseMachine(server: NovaServer): Omit<Machine, 'state'> {
  const instanceId = server.metadata?.[OWNER_METADATA_KEY];
  const details: Record<string, string | number> = { status: server.status };
  const taskState = taskStateOf(server);
  if (taskState) details.taskState = taskState;
  const flavor = server.flavor?.original_name ?? server.flavor?.id;
  if (flavor) details.flavor = flavor;
  if (server.image && typeof server.image === 'object' && server.image.id) details.imageId = server.image.id;
  if (server.key_name) details.keyName = server.key_name;
  if (server['OS-EXT-AZ:availability_zone']) details.availabilityZone = server['OS-EXT-AZ:availability_zone'];
  if (server.created) details.createdAt = server.created;
  return {
    providerInstanceId: server.id,
    ...(instanceId ? { instanceId } : {}),
    ...ipsOf(server.addresses, server.accessIPv4),
    details,
  };
}

/** The server as a Machine; null once Nova reports it deleted. */
function toMachine(server: NovaServer): Machine | null {
  const mapped = machineStateOf(statusOf(server));
  if (!mapped) return null;
  return { ...baseMachine(server), state: mapped.state, ...(mapped.reason ? { reason: mapped.reason } : {}) };
}

function isConflict(error: unknown): boolean {
  return error instanceof OpenStackApiError && error.httpStatus === 409;
}

function invalid(message: string): ProviderError {
  return new ProviderError(message, 'invalid-request');
}

async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

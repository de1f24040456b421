import {
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  EC2Client,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeImages,
  paginateDescribeInstanceTypes,
  paginateDescribeInstances,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  waitUntilInstanceStopped,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ProviderError, ValidationError } from '../../domain/errors.ts';
import type {
  CatalogItem,
  CatalogKind,
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
} from '../../ports/compute-provider.ts';
import {
  flavorItem,
  imageItem,
  keyPairItem,
  networkItem,
  securityGroupItem,
  subnetItem,
} from './ec2-catalog.ts';
import {
  ec2ErrorCode,
  explainedProviderError,
  isUnknownInstanceError,
  toProviderError,
} from './ec2-errors.ts';
import { checkEc2LaunchSpec, DEPLOYMENT_TAG, OWNER_TAG, runInstancesInput, type RootDevice } from './ec2-launch-request.ts';
import { LIVE_EC2_STATES, machineStateOf, unrequestedReason } from './ec2-states.ts';

/** Long-lived keys of an IAM user, as an account stores them. */
export interface Ec2AccessKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A role Hangar assumes (STS AssumeRole) with its own credentials, e.g. in the tenant's account. */
export interface Ec2AssumedRole {
  roleArn: string;
  externalId?: string;
}

export interface Ec2ClientOptions {
  region: string;
  /** Omitted: the SDK's default chain (the function's own role on AWS, env or profile locally). */
  credentials?: Ec2AccessKeys | Ec2AssumedRole;
  /**
   * Another EC2-compatible endpoint, for tests or emulators. With a role it serves STS too, as
   * single-endpoint emulators (LocalStack…) do.
   */
  endpoint?: string;
}

export interface Ec2ProviderOptions extends Ec2ClientOptions {
  /** An EC2 client to use instead of building one from the options above (tests inject it). */
  client?: EC2Client;
  /** Which images listCatalog('images') reads. Default: the account's own (`self`), at most 500. */
  images?: { owners?: string[]; filters?: Filter[]; maxItems?: number };
  /** How a hard reboot waits for the forced stop. Defaults: polls every 5–15 s, gives up after 180 s. */
  hardRebootWait?: { minDelaySeconds?: number; maxDelaySeconds?: number; maxWaitSeconds?: number };
  /**
   * The Hangar deployment (stage) this adapter acts for: stamped on every launch as
   * `hangar:deployment`, and listOwned() sees only machines that carry it. Unset, every machine
   * with Hangar's mark is listed (one deployment per account).
   */
  deployment?: string;
}

/** DescribeInstances takes at most 1,000 explicit instance ids per call. */
export const DESCRIBE_IDS_PER_CALL = 1000;
/** The largest page DescribeInstances returns when listing by filter. */
const LIST_PAGE_SIZE = 1000;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const DEFAULT_MAX_IMAGES = 500;

/**
 * One EC2 client for one account and region, with the SDK's own credential chain, retries
 * (standard mode, which backs off on RequestLimitExceeded) and endpoint resolution.
 */
export function createEc2Client({ region, credentials, endpoint }: Ec2ClientOptions): EC2Client {
  return new EC2Client({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials: credentialsFor(credentials, region, endpoint) } : {}),
  });
}

function credentialsFor(credentials: Ec2AccessKeys | Ec2AssumedRole, region: string, endpoint?: string) {
  if ('roleArn' in credentials) {
    // The SDK refreshes the assumed-role credentials before they expire.
    return fromTemporaryCredentials({
      params: {
        RoleArn: credentials.roleArn,
        RoleSessionName: 'hangar',
        ...(credentials.externalId ? { ExternalId: credentials.externalId } : {}),
      },
      clientConfig: { region, ...(endpoint ? { endpoint } : {}) },
    });
  }
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
  };
}

/**
 * The AWS provider: a machine is an EC2 instance in one account and region.
 *
 * - Idempotent launch: RunInstances carries a ClientToken derived from the Hangar id, so a
 *   retried launch returns the instance the first one created (for at least 24 h after it ends).
 * - Ownership: the instance and its root volume are tagged `hangar:instance-id`,
 *   `hangar:client`, `hangar:deployment` (when given) and `Name`; listOwned() finds machines
 *   by those tags.
 * - Gone: `shutting-down` and `terminated` instances are gone for Hangar (see ec2-states.ts).
 * - Hard reboot: EC2's RebootInstances only asks the operating system (EC2 forces it after a
 *   few minutes if the OS does not comply). `reboot(ref, { hard: true })` is a forced stop, a
 *   wait until the instance is stopped (SDK waiter, bounded) and a start; the public IP of an
 *   instance without an Elastic IP changes, as with any stop and start.
 * - Eventual consistency: right after RunInstances, DescribeInstances may not know the new id
 *   yet and describe() then answers null; callers that poll right after a launch should allow
 *   a short grace period before treating null as "gone".
 */
export class Ec2Provider implements ComputeProvider {
  readonly name = 'AWS' as const;
  readonly region: string;
  readonly client: EC2Client;

  private readonly images: { owners: string[]; filters: Filter[]; maxItems: number };
  private readonly hardRebootWait: { minDelay: number; maxDelay: number; maxWaitTime: number };
  private readonly deployment: string | undefined;

  constructor(options: Ec2ProviderOptions) {
    this.region = options.region;
    this.deployment = options.deployment;
    this.client = options.client ?? createEc2Client(options);
    this.images = {
      owners: options.images?.owners ?? ['self'],
      filters: options.images?.filters ?? [],
      maxItems: options.images?.maxItems ?? DEFAULT_MAX_IMAGES,
    };
    this.hardRebootWait = {
      minDelay: options.hardRebootWait?.minDelaySeconds ?? 5,
      maxDelay: options.hardRebootWait?.maxDelaySeconds ?? 15,
      maxWaitTime: options.hardRebootWait?.maxWaitSeconds ?? 180,
    };
  }

  checkLaunchSpec(spec: LaunchSpec): void {
    checkEc2LaunchSpec(spec, this.region, this.deployment);
  }

  async launch(spec: LaunchSpec): Promise<Machine> {
    this.checkLaunchSpec(spec);
    const doing = `launch ${spec.instanceId} as ${spec.instanceType} in ${this.region}`;
    const root = await this.rootDeviceFor(spec, doing);
    const output = await this.call(doing, () => this.client.send(new RunInstancesCommand(runInstancesInput(spec, root, this.deployment))));
    const instance = output.Instances?.[0];
    if (!instance?.InstanceId) throw new ProviderError(`Could not ${doing}: EC2 answered without an instance`, 'transient');
    return machineOf(instance);
  }

  async describe(ref: MachineRef): Promise<Machine | null> {
    const machines = await this.describeMany([ref]);
    return machines.get(ref.providerInstanceId) ?? null;
  }

  /**
   * Many machines at once, keyed by provider id; null for each one that is gone or never was.
   * For the status sync: DescribeInstances with at most 1,000 ids per call.
   */
  async describeMany(refs: readonly MachineRef[]): Promise<Map<string, Machine | null>> {
    for (const ref of refs) this.checkRegion(ref);
    const ids = [...new Set(refs.map((ref) => ref.providerInstanceId))];
    const machines = new Map<string, Machine | null>(ids.map((id) => [id, null]));
    // An id that is not shaped like one cannot exist; asking would fail the whole call.
    const wellFormed = ids.filter((id) => INSTANCE_ID.test(id));
    for (let start = 0; start < wellFormed.length; start += DESCRIBE_IDS_PER_CALL) {
      for (const instance of await this.describeExisting(wellFormed.slice(start, start + DESCRIBE_IDS_PER_CALL))) {
        const machine = machineOf(instance);
        if (machines.has(machine.providerInstanceId)) {
          machines.set(machine.providerInstanceId, machine.state === 'terminated' ? null : machine);
        }
      }
    }
    return machines;
  }

  async listOwned(): Promise<Machine[]> {
    const pages = paginateDescribeInstances(
      { client: this.client, pageSize: LIST_PAGE_SIZE },
      {
        Filters: [
          { Name: 'tag-key', Values: [OWNER_TAG] },
          ...(this.deployment ? [{ Name: `tag:${DEPLOYMENT_TAG}`, Values: [this.deployment] }] : []),
          { Name: 'instance-state-name', Values: [...LIVE_EC2_STATES] },
        ],
      },
    );
    const machines: Machine[] = [];
    await this.call(`list Hangar's instances in ${this.region}`, async () => {
      for await (const page of pages) {
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            const machine = machineOf(instance);
            if (machine.state !== 'terminated') machines.push(machine);
          }
        }
      }
    });
    return machines;
  }

  async start(ref: MachineRef): Promise<void> {
    const id = this.idOf(ref);
    await this.act(ref, 'start', () => this.client.send(new StartInstancesCommand({ InstanceIds: [id] })));
  }

  async stop(ref: MachineRef, options: { force?: boolean } = {}): Promise<void> {
    const id = this.idOf(ref);
    await this.act(ref, options.force ? 'force-stop' : 'stop', () =>
      this.client.send(new StopInstancesCommand({ InstanceIds: [id], ...(options.force ? { Force: true } : {}) })),
    );
  }

  async reboot(ref: MachineRef, options: { hard?: boolean } = {}): Promise<void> {
    const id = this.idOf(ref);
    if (!options.hard) {
      await this.act(ref, 'reboot', () => this.client.send(new RebootInstancesCommand({ InstanceIds: [id] })));
      return;
    }
    await this.stop(ref, { force: true });
    await this.waitUntilStopped(ref);
    await this.start(ref);
  }

  async terminate(ref: MachineRef): Promise<void> {
    const id = this.idOf(ref);
    try {
      await this.client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    } catch (error) {
      if (isUnknownInstanceError(error)) return; // already gone, or never was: the goal holds
      throw toProviderError(error, `terminate ${label(ref)} in ${this.region}`);
    }
  }

  /** The cheapest call that proves the credentials, the region and the endpoint. */
  async testConnection(): Promise<void> {
    try {
      await this.client.send(new DescribeRegionsCommand({ RegionNames: [this.region] }));
    } catch (error) {
      throw explainedProviderError(`Cannot connect to AWS EC2 in ${this.region}`, error);
    }
  }

  async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    const region = this.region;
    const doing = `list ${kind} in ${region}`;
    switch (kind) {
      case 'flavors':
        return this.collect(doing, paginateDescribeInstanceTypes({ client: this.client, pageSize: 100 }, {}), (page) =>
          (page.InstanceTypes ?? []).map((info) => flavorItem(info, region)),
        );
      case 'images':
        return this.collect(
          doing,
          paginateDescribeImages(
            { client: this.client, pageSize: 1000 },
            { Owners: this.images.owners, Filters: [{ Name: 'state', Values: ['available'] }, ...this.images.filters] },
          ),
          (page) => (page.Images ?? []).map((image) => imageItem(image, region)),
          this.images.maxItems,
        );
      case 'networks':
        return this.collect(doing, paginateDescribeVpcs({ client: this.client, pageSize: 1000 }, {}), (page) =>
          (page.Vpcs ?? []).map((vpc) => networkItem(vpc, region)),
        );
      case 'subnets':
        return this.collect(doing, paginateDescribeSubnets({ client: this.client, pageSize: 1000 }, {}), (page) =>
          (page.Subnets ?? []).map((subnet) => subnetItem(subnet, region)),
        );
      case 'securityGroups':
        return this.collect(doing, paginateDescribeSecurityGroups({ client: this.client, pageSize: 1000 }, {}), (page) =>
          (page.SecurityGroups ?? []).map((group) => securityGroupItem(group, region)),
        );
      case 'keyPairs': {
        // DescribeKeyPairs has no pagination: it answers every key pair at once.
        const output = await this.call(doing, () => this.client.send(new DescribeKeyPairsCommand({})));
        return (output.KeyPairs ?? []).map((pair) => keyPairItem(pair, region)).filter(isItem);
      }
    }
  }

  /** The image's root device, so the disk size lands on the root volume and not on a new one. */
  private async rootDeviceFor(spec: LaunchSpec, doing: string): Promise<RootDevice> {
    const imageId = spec.image!;
    const output = await this.call(doing, () => this.client.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
    const image = output.Images?.[0];
    if (!image) {
      throw new ProviderError(`Could not ${doing}: image ${imageId} does not exist in ${this.region} or is not shared with this account`, 'invalid-request');
    }
    if (image.State && image.State !== 'available') {
      throw new ProviderError(`Could not ${doing}: image ${imageId} is ${image.State}, not available`, 'invalid-request');
    }
    if (image.RootDeviceType === 'instance-store') {
      throw new ProviderError(`Could not ${doing}: image ${imageId} boots from instance store; Hangar needs an EBS-backed image`, 'invalid-request');
    }
    const deviceName = image.RootDeviceName ?? '/dev/xvda';
    const snapshotGB = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === deviceName)?.Ebs?.VolumeSize;
    if (spec.diskSizeGB !== undefined && snapshotGB !== undefined && spec.diskSizeGB < snapshotGB) {
      throw new ValidationError(
        `Cannot launch ${spec.instanceId} on AWS: a disk of ${spec.diskSizeGB} GB is smaller than the ${snapshotGB} GB root volume of image ${imageId}`,
        [{ path: 'config.diskSizeGB', message: `at least ${snapshotGB} GB for image ${imageId}` }],
      );
    }
    return { deviceName };
  }

  /**
   * DescribeInstances for explicit ids. EC2 fails the whole call when one id is unknown and names
   * the unknown ones in its message; those are dropped and the rest asked again. Should the
   * message name none, the ids are halved until each unknown one stands alone.
   */
  private async describeExisting(ids: string[]): Promise<Instance[]> {
    if (ids.length === 0) return [];
    try {
      const found: Instance[] = [];
      // No pageSize: EC2 refuses MaxResults together with InstanceIds.
      for await (const page of paginateDescribeInstances({ client: this.client }, { InstanceIds: ids })) {
        for (const reservation of page.Reservations ?? []) found.push(...(reservation.Instances ?? []));
      }
      return found;
    } catch (error) {
      if (!isUnknownInstanceError(error)) {
        throw toProviderError(error, `describe ${ids.length === 1 ? ids[0] : `${ids.length} instances`} in ${this.region}`);
      }
      const unknown = new Set(idsNamedIn(error, ids));
      if (unknown.size > 0) return this.describeExisting(ids.filter((id) => !unknown.has(id)));
      if (ids.length === 1) return [];
      const half = Math.ceil(ids.length / 2);
      return [...(await this.describeExisting(ids.slice(0, half))), ...(await this.describeExisting(ids.slice(half)))];
    }
  }

  /**
   * An instance action (start, stop, reboot). EC2 makes them idempotent for the target state
   * (stopping a stopped instance succeeds); what is left is explained: an unknown instance is
   * not-found, one between states is transient (it settles), one in the wrong state is refused.
   */
  private async act(ref: MachineRef, verb: string, send: () => Promise<unknown>): Promise<void> {
    const doing = `${verb} ${label(ref)} in ${this.region}`;
    try {
      await send();
    } catch (error) {
      if (isUnknownInstanceError(error)) {
        throw new ProviderError(`Could not ${doing}: the instance does not exist at AWS`, 'not-found');
      }
      if (ec2ErrorCode(error) !== 'IncorrectInstanceState') throw toProviderError(error, doing);
      const machine = await this.describe(ref);
      if (!machine) throw new ProviderError(`Could not ${doing}: the instance is terminated`, 'not-found');
      const settling = machine.state === 'pending' || machine.state === 'stopping';
      throw new ProviderError(
        `Could not ${doing}: the instance is ${machine.details?.ec2State ?? machine.state}${settling ? '; try again once it has settled' : ''}`,
        settling ? 'transient' : 'invalid-request',
      );
    }
  }

  private async waitUntilStopped(ref: MachineRef): Promise<void> {
    try {
      await waitUntilInstanceStopped({ client: this.client, ...this.hardRebootWait }, { InstanceIds: [ref.providerInstanceId] });
    } catch {
      const machine = await this.describe(ref);
      if (!machine) throw new ProviderError(`Could not hard-reboot ${label(ref)}: the instance is terminated`, 'not-found');
      throw new ProviderError(
        `Could not hard-reboot ${label(ref)}: it did not stop within ${this.hardRebootWait.maxWaitTime} s (it is ${machine.state}); try again`,
        'transient',
      );
    }
  }

  private async collect<P>(
    doing: string,
    pages: AsyncIterable<P>,
    itemsOf: (page: P) => (CatalogItem | null)[],
    maxItems = Number.POSITIVE_INFINITY,
  ): Promise<CatalogItem[]> {
    const items: CatalogItem[] = [];
    await this.call(doing, async () => {
      for await (const page of pages) {
        items.push(...itemsOf(page).filter(isItem));
        if (items.length >= maxItems) break;
      }
    });
    return items.slice(0, maxItems);
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toProviderError(error, doing);
    }
  }

  /** One provider, one region: acting on an instance elsewhere would answer for the wrong one. */
  private checkRegion(ref: MachineRef): void {
    if (ref.region !== this.region) {
      throw new ProviderError(
        `Instance ${ref.instanceId} (${ref.providerInstanceId}) is in ${ref.region}, but this AWS provider works in ${this.region}`,
        'invalid-request',
      );
    }
  }

  private idOf(ref: MachineRef): string {
    this.checkRegion(ref);
    return ref.providerInstanceId;
  }
}

export function machineOf(instance: Instance): Machine {
  const state = machineStateOf(instance.State?.Name);
  const reason = unrequestedReason(state, instance.StateReason);
  const owner = instance.Tags?.find((tag) => tag.Key === OWNER_TAG)?.Value;
  const details: Record<string, string | number> = {};
  if (instance.Placement?.AvailabilityZone) details.availabilityZone = instance.Placement.AvailabilityZone;
  if (instance.ImageId) details.imageId = instance.ImageId;
  if (instance.InstanceType) details.instanceType = instance.InstanceType;
  if (instance.State?.Name) details.ec2State = instance.State.Name;
  return {
    providerInstanceId: instance.InstanceId ?? '',
    ...(owner ? { instanceId: owner } : {}),
    state,
    ...(instance.PrivateIpAddress ? { privateIp: instance.PrivateIpAddress } : {}),
    ...(instance.PublicIpAddress ? { publicIp: instance.PublicIpAddress } : {}),
    details,
    ...(reason ? { reason } : {}),
  };
}

const label = (ref: MachineRef) => `${ref.instanceId} (${ref.providerInstanceId})`;

const isItem = (item: CatalogItem | null): item is CatalogItem => item !== null;

/** The instance ids an InvalidInstanceID.* message names, among the ones asked for. */
function idsNamedIn(error: unknown, asked: readonly string[]): string[] {
  const message = error instanceof Error ? error.message : '';
  const wanted = new Set(asked);
  return [...new Set(message.match(/i-[0-9a-f]+/g) ?? [])].filter((id) => wanted.has(id));
}

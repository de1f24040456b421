/**
 * An in-memory EC2 for one account and region, answering through aws-sdk-client-mock the way the
 * EC2 API reference says EC2 answers:
 *
 *   - RunInstances with a ClientToken is idempotent: the same token and the same request return
 *     the first reservation (with the instance's current state); the same token with another
 *     request is IdempotentParameterMismatch. Unknown image, subnet, security group, key pair or
 *     instance type are refused with EC2's codes.
 *   - Instances move pending → running, stopping → stopped, shutting-down → terminated after
 *     `settleAfterDescribes` DescribeInstances answers that include them (as a poller sees it).
 *     Terminated instances stay describable.
 *   - DescribeInstances: explicit ids (at most 1,000, no MaxResults alongside, unknown ids fail
 *     the whole call naming them, malformed ids are InvalidInstanceID.Malformed) or filters
 *     (tag-key, tag:<key>, instance-state-name, instance-id, client-token), paged with NextToken.
 *   - Start/Stop/Reboot/Terminate follow EC2's state rules (IncorrectInstanceState).
 *   - Catalog reads (instance types, images, VPCs, subnets, security groups, key pairs, regions).
 *   - DeleteKeyPair (by name or id; an unknown one is no error) and DeleteTags on instances (a
 *     tag given with a Value goes only if the value matches; no Tags removes every tag), as a
 *     person working in the console does behind Hangar's back.
 *
 * Every call is recorded with a snapshot of its input (`calls`), taken when the call is made:
 * the SDK paginators reuse one input object, so the mock's own history would show only the last
 * NextToken. `failNext` makes the next calls of a command fail with a given EC2 error code.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteKeyPairCommand,
  DeleteTagsCommand,
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  EC2ServiceException,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type Image,
  type Instance,
  type InstanceStateChange,
  type InstanceStateName,
  type InstanceTypeInfo,
  type KeyPairInfo,
  type Reservation,
  type RunInstancesCommandInput,
  type SecurityGroup,
  type Subnet,
  type Tag,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const DOUBLE_ACCOUNT = '123456789012';

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
const SETTLES_TO: Partial<Record<InstanceStateName, InstanceStateName>> = {
  pending: 'running',
  stopping: 'stopped',
  'shutting-down': 'terminated',
};
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** An EC2 service error as the SDK raises it: the code in `name`, the HTTP status in `$metadata`. */
export function ec2Error(code: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: randomBytes(8).toString('hex') },
    message,
  });
}

interface DoubleInstance {
  id: string;
  reservationId: string;
  clientToken?: string;
  /** The RunInstances request, canonical, to detect a token reused with other parameters. */
  request: string;
  state: InstanceStateName;
  /** DescribeInstances answers left before a transitional state settles. */
  describesLeft: number;
  stateReason?: { Code: string; Message: string };
  imageId: string;
  instanceType: string;
  subnetId?: string;
  availabilityZone: string;
  privateIp: string;
  publicIp?: string;
  tags: Tag[];
  volumeTags: Tag[];
  blockDevices: RunInstancesCommandInput['BlockDeviceMappings'];
  reboots: number;
  forcedStops: number;
  launchTime: Date;
}

export interface RecordedCall {
  command: string;
  input: Record<string, any>;
}

export interface Ec2DoubleOptions {
  region?: string;
  /** DescribeInstances answers a transitional state shows before it settles (default 1). */
  settleAfterDescribes?: number;
  /** The largest page a Describe* call answers, whatever MaxResults asks (default 1000). */
  maxPageSize?: number;
}

interface ProgrammedFailure {
  error: Error;
  remaining: number;
}

export class Ec2Double {
  readonly region: string;
  readonly client: EC2Client;
  readonly mock: AwsClientStub<EC2Client>;
  readonly calls: RecordedCall[] = [];
  readonly instances = new Map<string, DoubleInstance>();
  settleAfterDescribes: number;
  maxPageSize: number;

  readonly images: Image[];
  readonly instanceTypes: InstanceTypeInfo[];
  readonly vpcs: Vpc[];
  readonly subnets: Subnet[];
  readonly securityGroups: SecurityGroup[];
  readonly keyPairs: KeyPairInfo[];

  private readonly failures = new Map<string, ProgrammedFailure[]>();
  private readonly byToken = new Map<string, string>();
  private nextIp = 10;

  constructor(options: Ec2DoubleOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.settleAfterDescribes = options.settleAfterDescribes ?? 1;
    this.maxPageSize = options.maxPageSize ?? 1000;
    this.client = new EC2Client({
      region: this.region,
      credentials: { accessKeyId: 'AKIADOUBLE', secretAccessKey: 'double-secret' },
    });
    this.mock = mockClient(this.client);
    const az = `${this.region}a`;

    this.images = [
      image('ami-0a1b2c3d4e5f60718', 'hangar-al2023-base', '/dev/xvda', 8),
      image('ami-0123456789abcdef0', 'hangar-ubuntu-24.04', '/dev/sda1', 50),
    ];
    this.instanceTypes = [
      instanceType('t3.micro', 2, 1024),
      instanceType('t3.large', 2, 8192),
      instanceType('g4dn.xlarge', 4, 16_384, { count: 1, name: 'T4', manufacturer: 'NVIDIA', memoryMiB: 16_384 }),
      instanceType('p3.2xlarge', 8, 62_464, { count: 1, name: 'V100', manufacturer: 'NVIDIA', memoryMiB: 16_384 }),
    ];
    this.vpcs = [{ VpcId: 'vpc-0a1b2c3d4e5f60718', CidrBlock: '10.0.0.0/16', IsDefault: false, State: 'available', Tags: [{ Key: 'Name', Value: 'hangar-vpc' }] }];
    this.subnets = [
      {
        SubnetId: 'subnet-0a1b2c3d4e5f60718',
        VpcId: 'vpc-0a1b2c3d4e5f60718',
        CidrBlock: '10.0.1.0/24',
        AvailabilityZone: az,
        AvailableIpAddressCount: 250,
        DefaultForAz: false,
        State: 'available',
        Tags: [{ Key: 'Name', Value: 'hangar-private-a' }],
      },
    ];
    this.securityGroups = [
      { GroupId: 'sg-0a1b2c3d4e5f60718', GroupName: 'hangar-workers', VpcId: 'vpc-0a1b2c3d4e5f60718', Description: 'Hangar workers' },
    ];
    this.keyPairs = [{ KeyName: 'hangar-ops', KeyPairId: 'key-0a1b2c3d4e5f60718', KeyType: 'ed25519', KeyFingerprint: 'SHA256:double' }];

    this.handle(RunInstancesCommand, (input) => this.runInstances(input));
    this.handle(DescribeInstancesCommand, (input) => this.describeInstances(input));
    this.handle(StartInstancesCommand, (input) => this.start(input.InstanceIds ?? []));
    this.handle(StopInstancesCommand, (input) => this.stop(input.InstanceIds ?? [], input.Force === true));
    this.handle(RebootInstancesCommand, (input) => this.reboot(input.InstanceIds ?? []));
    this.handle(TerminateInstancesCommand, (input) => this.terminate(input.InstanceIds ?? []));
    this.handle(DescribeImagesCommand, (input) => this.describeImages(input));
    this.handle(DescribeInstanceTypesCommand, (input) => ({ ...this.page(this.instanceTypes, input, 100), key: 'InstanceTypes' }));
    this.handle(DescribeVpcsCommand, (input) => ({ ...this.page(this.vpcs, input), key: 'Vpcs' }));
    this.handle(DescribeSubnetsCommand, (input) => ({ ...this.page(this.subnets, input), key: 'Subnets' }));
    this.handle(DescribeSecurityGroupsCommand, (input) => ({ ...this.page(this.securityGroups, input), key: 'SecurityGroups' }));
    this.handle(DescribeKeyPairsCommand, () => ({ KeyPairs: this.keyPairs }));
    this.handle(DeleteKeyPairCommand, (input) => this.deleteKeyPair(input));
    this.handle(DeleteTagsCommand, (input) => this.deleteTags(input));
    this.handle(DescribeRegionsCommand, (input) => {
      const names: string[] = input.RegionNames ?? [this.region];
      const unknown = names.find((name) => name !== this.region);
      if (unknown) throw ec2Error('InvalidParameterValue', `Invalid region: ${unknown}`);
      return { Regions: [{ RegionName: this.region, Endpoint: `ec2.${this.region}.amazonaws.com`, OptInStatus: 'opt-in-not-required' }] };
    });
  }

  /** The next `times` calls of `command` (e.g. 'RunInstances') fail with this EC2 error. */
  failNext(command: string, code: string, message: string, { status = 400, times = 1 } = {}): void {
    const queue = this.failures.get(command) ?? [];
    queue.push({ error: ec2Error(code, message, status), remaining: times });
    this.failures.set(command, queue);
  }

  callsOf(command: string): Record<string, any>[] {
    return this.calls.filter((call) => call.command === command).map((call) => call.input);
  }

  /** An instance that exists without a launch through the provider (another tool, another run). */
  seedInstance(overrides: Partial<Pick<DoubleInstance, 'state' | 'tags' | 'stateReason' | 'instanceType'>> = {}): string {
    const instance = this.newInstance({
      request: 'seeded',
      imageId: this.images[0]!.ImageId!,
      instanceType: overrides.instanceType ?? 't3.micro',
      tags: overrides.tags ?? [],
    });
    instance.state = overrides.state ?? 'running';
    if (overrides.stateReason) instance.stateReason = overrides.stateReason;
    return instance.id;
  }

  /** Move an instance as if from outside Hangar (a console stop, a host retirement…). */
  setState(id: string, state: InstanceStateName, stateReason?: { Code: string; Message: string }): void {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no instance ${id} in the double`);
    instance.state = state;
    instance.describesLeft = this.settleAfterDescribes;
    if (stateReason) instance.stateReason = stateReason;
    else delete instance.stateReason;
  }

  get(id: string): DoubleInstance | undefined {
    return this.instances.get(id);
  }

  // --- plumbing -------------------------------------------------------------------------------

  private handle<I extends object, O>(
    command: new (input: I) => { input: I },
    answer: (input: any) => O | Promise<O>,
  ): void {
    const name = command.name.replace(/Command$/, '');
    (this.mock.on as any)(command).callsFake(async (input: any) => {
      this.calls.push({ command: name, input: structuredClone(input) });
      const queue = this.failures.get(name);
      const failure = queue?.[0];
      if (failure) {
        failure.remaining -= 1;
        if (failure.remaining <= 0) queue.shift();
        throw failure.error;
      }
      const output: any = await answer(input);
      // Paged catalog answers name their list key; move the items under it.
      if (output && typeof output === 'object' && 'key' in output && 'items' in output) {
        const { key, items, NextToken } = output as { key: string; items: unknown[]; NextToken?: string };
        return { [key]: items, ...(NextToken ? { NextToken } : {}), $metadata: {} };
      }
      return { ...output, $metadata: {} };
    });
  }

  /** One page of `items` by MaxResults/NextToken; the token is the offset, opaque to callers. */
  private page<T>(items: readonly T[], input: { MaxResults?: number; NextToken?: string }, largest = this.maxPageSize) {
    const size = Math.min(input.MaxResults ?? largest, largest, this.maxPageSize);
    const offset = input.NextToken ? decodeToken(input.NextToken) : 0;
    const slice = items.slice(offset, offset + size);
    const next = offset + size < items.length ? encodeToken(offset + size) : undefined;
    return { items: slice, ...(next ? { NextToken: next } : {}) };
  }

  private newInstance(fields: { request: string; imageId: string; instanceType: string; tags: Tag[]; clientToken?: string; subnetId?: string }): DoubleInstance {
    const octet = this.nextIp++;
    const instance: DoubleInstance = {
      id: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      reservationId: `r-${randomBytes(9).toString('hex').slice(0, 17)}`,
      request: fields.request,
      state: 'pending',
      describesLeft: this.settleAfterDescribes,
      imageId: fields.imageId,
      instanceType: fields.instanceType,
      availabilityZone: `${this.region}a`,
      privateIp: `10.0.1.${octet}`,
      tags: fields.tags,
      volumeTags: [],
      blockDevices: [],
      reboots: 0,
      forcedStops: 0,
      launchTime: new Date(),
      ...(fields.clientToken ? { clientToken: fields.clientToken } : {}),
      ...(fields.subnetId ? { subnetId: fields.subnetId } : {}),
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  // --- instances ------------------------------------------------------------------------------

  private runInstances(input: RunInstancesCommandInput): { Instances: Instance[]; ReservationId: string; OwnerId: string } {
    const request = canonical(input);
    if (input.ClientToken) {
      if (input.ClientToken.length > 64) throw ec2Error('InvalidParameterValue', 'Value for parameter clientToken is invalid: it exceeds 64 characters');
      const existing = this.instances.get(this.byToken.get(input.ClientToken) ?? '');
      if (existing) {
        if (existing.request !== request) {
          throw ec2Error('IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
        }
        return { Instances: [this.toInstance(existing)], ReservationId: existing.reservationId, OwnerId: DOUBLE_ACCOUNT };
      }
    }
    if (input.MinCount !== 1 || input.MaxCount !== 1) throw new Error('the EC2 double launches one instance per call');
    const img = this.images.find((candidate) => candidate.ImageId === input.ImageId);
    if (!img) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
    if (!this.instanceTypes.some((type) => type.InstanceType === input.InstanceType)) {
      throw ec2Error('InvalidParameterValue', `Invalid value '${input.InstanceType}' for InstanceType.`);
    }
    if (input.SubnetId && !this.subnets.some((subnet) => subnet.SubnetId === input.SubnetId)) {
      throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${input.SubnetId}' does not exist`);
    }
    for (const group of input.SecurityGroupIds ?? []) {
      if (!this.securityGroups.some((candidate) => candidate.GroupId === group)) {
        throw ec2Error('InvalidGroup.NotFound', `The security group '${group}' does not exist`);
      }
    }
    if (input.KeyName && !this.keyPairs.some((pair) => pair.KeyName === input.KeyName)) {
      throw ec2Error('InvalidKeyPair.NotFound', `The key pair '${input.KeyName}' does not exist`);
    }
    if (input.UserData !== undefined && Buffer.from(input.UserData, 'base64').toString('base64') !== input.UserData) {
      throw ec2Error('InvalidUserData.Malformed', 'Invalid BASE64 encoding of user data.');
    }
    const rootSnapshot = img.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === img.RootDeviceName)?.Ebs?.VolumeSize ?? 0;
    for (const mapping of input.BlockDeviceMappings ?? []) {
      const size = mapping.Ebs?.VolumeSize;
      if (mapping.DeviceName === img.RootDeviceName && size !== undefined && size < rootSnapshot) {
        throw ec2Error('InvalidBlockDeviceMapping', `Volume of size ${size}GB is smaller than snapshot, expect size >= ${rootSnapshot}GB`);
      }
    }
    const tagsFor = (type: string) => input.TagSpecifications?.find((spec) => spec.ResourceType === type)?.Tags ?? [];
    const instance = this.newInstance({
      request,
      imageId: img.ImageId!,
      instanceType: String(input.InstanceType),
      tags: tagsFor('instance'),
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      ...(input.SubnetId ? { subnetId: input.SubnetId } : {}),
    });
    instance.volumeTags = tagsFor('volume');
    instance.blockDevices = input.BlockDeviceMappings ?? [];
    if (input.ClientToken) this.byToken.set(input.ClientToken, instance.id);
    return { Instances: [this.toInstance(instance)], ReservationId: instance.reservationId, OwnerId: DOUBLE_ACCOUNT };
  }

  private describeInstances(input: { InstanceIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }) {
    let selected: DoubleInstance[];
    if (input.InstanceIds?.length) {
      if (input.MaxResults !== undefined) {
        throw ec2Error('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      }
      if (input.InstanceIds.length > 1000) {
        throw ec2Error('InvalidParameterValue', `Too many instance ids: ${input.InstanceIds.length}; at most 1000`);
      }
      const malformed = input.InstanceIds.find((id) => !INSTANCE_ID.test(id));
      if (malformed) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
      this.requireKnown(input.InstanceIds);
      const wanted = new Set(input.InstanceIds);
      selected = [...this.instances.values()].filter((instance) => wanted.has(instance.id));
    } else {
      if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
        throw ec2Error('InvalidParameterValue', `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
      }
      selected = [...this.instances.values()].filter((instance) => (input.Filters ?? []).every((filter) => this.matches(instance, filter)));
    }
    const { items, NextToken } = input.InstanceIds?.length ? { items: selected, NextToken: undefined } : this.page(selected, input);
    const reservations = new Map<string, Reservation>();
    for (const instance of items) {
      this.settle(instance);
      const reservation = reservations.get(instance.reservationId) ?? { ReservationId: instance.reservationId, OwnerId: DOUBLE_ACCOUNT, Instances: [] };
      reservation.Instances!.push(this.toInstance(instance));
      reservations.set(instance.reservationId, reservation);
      instance.describesLeft -= 1;
    }
    return { Reservations: [...reservations.values()], ...(NextToken ? { NextToken } : {}) };
  }

  private matches(instance: DoubleInstance, filter: Filter): boolean {
    const values = filter.Values ?? [];
    const name = filter.Name ?? '';
    if (name === 'tag-key') return instance.tags.some((tag) => values.includes(tag.Key ?? ''));
    if (name.startsWith('tag:')) return instance.tags.some((tag) => tag.Key === name.slice(4) && values.includes(tag.Value ?? ''));
    if (name === 'instance-state-name') return values.includes(this.settledState(instance));
    if (name === 'instance-id') return values.includes(instance.id);
    if (name === 'client-token') return values.includes(instance.clientToken ?? '');
    throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
  }

  /** The state a describe made now would show (settling happens as the answer is built). */
  private settledState(instance: DoubleInstance): InstanceStateName {
    return instance.describesLeft <= 0 ? (SETTLES_TO[instance.state] ?? instance.state) : instance.state;
  }

  private settle(instance: DoubleInstance): void {
    const next = SETTLES_TO[instance.state];
    if (next && instance.describesLeft <= 0) {
      instance.state = next;
      instance.describesLeft = this.settleAfterDescribes;
      if (next === 'running' && !instance.publicIp) instance.publicIp = `203.0.113.${(instance.privateIp.split('.').pop() ?? '1')}`;
      if (next === 'stopped' || next === 'terminated') delete instance.publicIp;
    }
  }

  private requireKnown(ids: readonly string[]): DoubleInstance[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length === 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return ids.map((id) => this.instances.get(id)!);
  }

  private change(instance: DoubleInstance, to: InstanceStateName, reason?: { Code: string; Message: string }): InstanceStateChange {
    const previous = instance.state;
    if (previous !== to) {
      instance.state = to;
      instance.describesLeft = this.settleAfterDescribes;
      if (reason) instance.stateReason = reason;
    }
    return {
      InstanceId: instance.id,
      PreviousState: { Name: previous, Code: STATE_CODES[previous] },
      CurrentState: { Name: instance.state, Code: STATE_CODES[instance.state] },
    };
  }

  private start(ids: string[]) {
    const instances = this.requireKnown(ids);
    for (const instance of instances) {
      if (['stopping', 'shutting-down', 'terminated'].includes(instance.state)) {
        throw ec2Error('IncorrectInstanceState', `The instance '${instance.id}' is not in a state from which it can be started.`);
      }
    }
    return {
      StartingInstances: instances.map((instance) => {
        if (instance.state !== 'stopped') return this.change(instance, instance.state);
        delete instance.stateReason;
        return this.change(instance, 'pending');
      }),
    };
  }

  private stop(ids: string[], force: boolean) {
    const instances = this.requireKnown(ids);
    for (const instance of instances) {
      if (['pending', 'shutting-down', 'terminated'].includes(instance.state)) {
        throw ec2Error('IncorrectInstanceState', `The instance '${instance.id}' is not in a state from which it can be stopped.`);
      }
    }
    return {
      StoppingInstances: instances.map((instance) => {
        if (force) instance.forcedStops += 1;
        if (instance.state !== 'running') return this.change(instance, instance.state);
        return this.change(instance, 'stopping', { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
      }),
    };
  }

  private reboot(ids: string[]) {
    for (const instance of this.requireKnown(ids)) {
      if (instance.state !== 'running') {
        throw ec2Error('IncorrectInstanceState', `The instance '${instance.id}' is not in a state from which it can be rebooted.`);
      }
      instance.reboots += 1;
    }
    return {};
  }

  private terminate(ids: string[]) {
    const instances = this.requireKnown(ids);
    return {
      TerminatingInstances: instances.map((instance) =>
        instance.state === 'terminated' || instance.state === 'shutting-down'
          ? this.change(instance, instance.state)
          : this.change(instance, 'shutting-down', { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' }),
      ),
    };
  }

  private toInstance(instance: DoubleInstance): Instance {
    return {
      InstanceId: instance.id,
      ImageId: instance.imageId,
      InstanceType: instance.instanceType as Instance['InstanceType'],
      State: { Name: instance.state, Code: STATE_CODES[instance.state] },
      Placement: { AvailabilityZone: instance.availabilityZone },
      PrivateIpAddress: instance.privateIp,
      ...(instance.publicIp ? { PublicIpAddress: instance.publicIp } : {}),
      ...(instance.subnetId ? { SubnetId: instance.subnetId } : {}),
      ...(instance.clientToken ? { ClientToken: instance.clientToken } : {}),
      ...(instance.stateReason ? { StateReason: instance.stateReason } : {}),
      LaunchTime: instance.launchTime,
      Tags: instance.tags,
    };
  }

  /** Tags go from instances only here; EC2 refuses the call when one resource is unknown. */
  private deleteTags(input: { Resources?: string[]; Tags?: Tag[] }) {
    const goes = (tag: Tag) =>
      !input.Tags || input.Tags.some((gone) => gone.Key === tag.Key && (gone.Value === undefined || gone.Value === tag.Value));
    for (const instance of this.requireKnown(input.Resources ?? [])) instance.tags = instance.tags.filter((tag) => !goes(tag));
    return {};
  }

  // --- catalog --------------------------------------------------------------------------------

  private deleteKeyPair(input: { KeyName?: string; KeyPairId?: string }) {
    const index = this.keyPairs.findIndex((pair) => (input.KeyPairId ? pair.KeyPairId === input.KeyPairId : pair.KeyName === input.KeyName));
    const [gone] = index === -1 ? [] : this.keyPairs.splice(index, 1);
    return { Return: true, ...(gone?.KeyPairId ? { KeyPairId: gone.KeyPairId } : {}) };
  }

  private describeImages(input: { ImageIds?: string[]; Owners?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }) {
    if (input.ImageIds?.length) {
      const missing = input.ImageIds.filter((id) => !this.images.some((img) => img.ImageId === id));
      if (missing.length) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
      return { Images: this.images.filter((img) => input.ImageIds!.includes(img.ImageId!)) };
    }
    const owners = input.Owners ?? [];
    const owned = this.images.filter((img) => owners.length === 0 || owners.includes('self') || owners.includes(img.OwnerId ?? ''));
    return { ...this.page(owned, input), key: 'Images' };
  }
}

function image(id: string, name: string, rootDevice: string, snapshotGB: number): Image {
  return {
    ImageId: id,
    Name: name,
    OwnerId: DOUBLE_ACCOUNT,
    State: 'available',
    Architecture: 'x86_64',
    PlatformDetails: 'Linux/UNIX',
    RootDeviceType: 'ebs',
    RootDeviceName: rootDevice,
    CreationDate: '2026-10-01T00:00:00.000Z',
    BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { VolumeSize: snapshotGB, VolumeType: 'gp3', DeleteOnTermination: true, SnapshotId: 'snap-0a1b2c3d4e5f60718' } }],
  };
}

function instanceType(
  type: string,
  vcpus: number,
  memoryMiB: number,
  gpu?: { count: number; name: string; manufacturer: string; memoryMiB: number },
): InstanceTypeInfo {
  return {
    InstanceType: type as InstanceTypeInfo['InstanceType'],
    CurrentGeneration: !type.startsWith('p3'),
    VCpuInfo: { DefaultVCpus: vcpus },
    MemoryInfo: { SizeInMiB: memoryMiB },
    ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
    ...(gpu
      ? {
          GpuInfo: {
            Gpus: [{ Count: gpu.count, Name: gpu.name, Manufacturer: gpu.manufacturer, MemoryInfo: { SizeInMiB: gpu.memoryMiB } }],
            TotalGpuMemoryInMiB: gpu.memoryMiB * gpu.count,
          },
        }
      : {}),
  };
}

/** JSON with sorted keys: two requests with the same parameters compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

const encodeToken = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');

function decodeToken(token: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!match) throw ec2Error('InvalidPaginationToken', `The pagination token '${token}' is invalid`);
  return Number(match[1]);
}

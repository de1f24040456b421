import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError, ValidationError } from '../../shared/domain/errors.ts';
import { describeEc2Error, kindOfEc2Error, toProviderError } from '../../shared/adapters/aws/ec2-errors.ts';
import { clientTokenFor } from '../../shared/adapters/aws/ec2-launch-request.ts';
import { DESCRIBE_IDS_PER_CALL, Ec2Provider } from '../../shared/adapters/aws/ec2-provider.ts';
import type { LaunchSpec, MachineRef } from '../../shared/ports/compute-provider.ts';
import { Ec2Double, ec2Error } from '../support/ec2-double.ts';
import { contractInstanceId, refOf, runComputeProviderContract, waitForState } from './compute-provider.contract.ts';

const REGION = 'us-east-1';
const AMI = 'ami-0a1b2c3d4e5f60718';
const UBUNTU_AMI = 'ami-0123456789abcdef0';
const SUBNET = 'subnet-0a1b2c3d4e5f60718';
const SECURITY_GROUP = 'sg-0a1b2c3d4e5f60718';
/** The double settles in milliseconds; the SDK waiter's defaults (seconds) would only slow tests. */
const FAST_WAIT = { minDelaySeconds: 0.005, maxDelaySeconds: 0.02, maxWaitSeconds: 5 };

function awsSpec(instanceId: string, overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-acme',
    name: 'gpu worker',
    instanceType: 't3.micro',
    region: REGION,
    image: AMI,
    resources: { cpu: 2, memory: 1 },
    diskSizeGB: 30,
    keyPair: 'hangar-ops',
    securityGroups: [SECURITY_GROUP],
    networks: [SUBNET],
    userData: '#!/bin/sh\necho hangar\n',
    tags: { project: 'medical-analysis', team: 'ml' },
    ...overrides,
  };
}

const contractDoubles: Ec2Double[] = [];

runComputeProviderContract(
  'AWS (EC2 double)',
  async () => {
    const ec2 = new Ec2Double({ region: REGION, settleAfterDescribes: 2 });
    contractDoubles.push(ec2);
    const provider = new Ec2Provider({ region: REGION, client: ec2.client, hardRebootWait: FAST_WAIT });
    return { provider, spec: (instanceId) => awsSpec(instanceId), cleanup: async () => ec2.mock.restore() };
  },
  { stateTimeoutMs: 5000, pollMs: 5 },
);

describe('Ec2Provider', () => {
  let ec2: Ec2Double;
  let provider: Ec2Provider;

  beforeEach(() => {
    ec2 = new Ec2Double({ region: REGION, settleAfterDescribes: 1 });
    provider = new Ec2Provider({ region: REGION, client: ec2.client, hardRebootWait: FAST_WAIT });
  });

  afterEach(() => {
    ec2.mock.restore();
  });

  afterAll(() => {
    for (const double of contractDoubles) double.mock.restore();
  });

  async function launchRunning(spec = awsSpec(contractInstanceId('aws'))): Promise<MachineRef> {
    const ref = refOf(await provider.launch(spec), spec);
    await waitForState(provider, ref, ['running'], { pollMs: 1 });
    return ref;
  }

  const refFor = (providerInstanceId: string, instanceId = 'vps-some-thing-abc123'): MachineRef => ({
    instanceId,
    providerInstanceId,
    region: REGION,
  });

  describe('deployments sharing an account', () => {
    it('stamps its deployment on every launch and lists only the machines that carry it', async () => {
      const dev = new Ec2Provider({ region: REGION, client: ec2.client, hardRebootWait: FAST_WAIT, deployment: 'hangar-dev' });
      const prod = new Ec2Provider({ region: REGION, client: ec2.client, hardRebootWait: FAST_WAIT, deployment: 'hangar-prod' });

      const devMachine = await dev.launch(awsSpec('vps-dev-box-aaaaaa'));
      const prodMachine = await prod.launch(awsSpec('vps-prod-box-bbbbbb'));

      const [request] = ec2.callsOf('RunInstances') as Array<{ TagSpecifications: Array<{ Tags: Array<{ Key: string; Value: string }> }> }>;
      expect(request!.TagSpecifications.every((spec) => spec.Tags.some((t) => t.Key === 'hangar:deployment' && t.Value === 'hangar-dev'))).toBe(true);
      expect((await dev.listOwned()).map((m) => m.providerInstanceId)).toEqual([devMachine.providerInstanceId]);
      expect((await prod.listOwned()).map((m) => m.providerInstanceId)).toEqual([prodMachine.providerInstanceId]);
      // Without a deployment, one Hangar per account: every machine with the mark.
      expect((await provider.listOwned()).map((m) => m.providerInstanceId).sort()).toEqual([devMachine.providerInstanceId, prodMachine.providerInstanceId].sort());
    });
  });

  describe('launch', () => {
    it('sends one RunInstances request with the idempotency token, ownership tags, root volume, network and user data', async () => {
      const spec = awsSpec('gpu-medical-worker-k3x9q2');

      const machine = await provider.launch(spec);

      const tags = [
        { Key: 'hangar:instance-id', Value: 'gpu-medical-worker-k3x9q2' },
        { Key: 'hangar:client', Value: 'client-acme' },
        { Key: 'Name', Value: 'gpu worker' },
        { Key: 'project', Value: 'medical-analysis' },
        { Key: 'team', Value: 'ml' },
      ];
      expect(ec2.callsOf('DescribeImages')).toEqual([{ ImageIds: [AMI] }]);
      expect(ec2.callsOf('RunInstances')).toEqual([
        {
          ClientToken: 'gpu-medical-worker-k3x9q2',
          ImageId: AMI,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3', DeleteOnTermination: true, VolumeSize: 30 } }],
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
          SubnetId: SUBNET,
          SecurityGroupIds: [SECURITY_GROUP],
          KeyName: 'hangar-ops',
          UserData: Buffer.from('#!/bin/sh\necho hangar\n').toString('base64'),
        },
      ]);
      expect(machine).toMatchObject({ instanceId: 'gpu-medical-worker-k3x9q2', state: 'pending', privateIp: expect.any(String) });
      expect(machine.providerInstanceId).toMatch(/^i-[0-9a-f]{17}$/);
      expect(ec2.get(machine.providerInstanceId)?.volumeTags).toEqual(tags);
    });

    it("sizes the image's own root device, whatever its name", async () => {
      const machine = await provider.launch(awsSpec(contractInstanceId('ubuntu'), { image: UBUNTU_AMI, diskSizeGB: 80 }));

      expect(ec2.get(machine.providerInstanceId)?.blockDevices).toEqual([
        { DeviceName: '/dev/sda1', Ebs: { VolumeType: 'gp3', DeleteOnTermination: true, VolumeSize: 80 } },
      ]);
    });

    it("keeps the image's snapshot size when no disk size is asked for", async () => {
      const spec = awsSpec(contractInstanceId('default-disk'));
      delete spec.diskSizeGB;

      await provider.launch(spec);

      expect(ec2.callsOf('RunInstances')[0]?.BlockDeviceMappings).toEqual([
        { DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3', DeleteOnTermination: true } },
      ]);
    });

    it('refuses a disk smaller than the image before calling RunInstances', async () => {
      const launching = provider.launch(awsSpec(contractInstanceId('small-disk'), { image: UBUNTU_AMI, diskSizeGB: 30 }));

      await expect(launching).rejects.toBeInstanceOf(ValidationError);
      await expect(launching).rejects.toThrow('a disk of 30 GB is smaller than the 50 GB root volume of image ami-0123456789abcdef0');
      expect(ec2.callsOf('RunInstances')).toEqual([]);
    });

    it('returns the same instance when a launch is retried, and EC2 holds one', async () => {
      const spec = awsSpec(contractInstanceId('retry'));

      const first = await provider.launch(spec);
      const again = await provider.launch(spec);

      const [firstRequest, secondRequest] = ec2.callsOf('RunInstances');
      expect(again.providerInstanceId).toBe(first.providerInstanceId);
      expect(secondRequest).toEqual(firstRequest);
      expect(ec2.instances.size).toBe(1);
    });

    it('turns a token reused with other settings (IdempotentParameterMismatch) into an invalid request', async () => {
      const spec = awsSpec(contractInstanceId('mismatch'));
      await provider.launch(spec);

      const error = await provider.launch({ ...spec, instanceType: 't3.large' }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('invalid-request');
      expect((error as ProviderError).message).toContain('IdempotentParameterMismatch');
      expect((error as ProviderError).message).toContain('will not launch a second machine');
      expect(ec2.instances.size).toBe(1);
    });

    it('derives a token EC2 accepts from any id: the id itself up to 64 characters, else a stable digest', () => {
      const long = `vps-${'a'.repeat(70)}-abc123`;

      expect(clientTokenFor('vps-web-server-abc123')).toBe('vps-web-server-abc123');
      expect(clientTokenFor(long)).toHaveLength(64);
      expect(clientTokenFor(long)).toBe(clientTokenFor(long));
      expect(clientTokenFor(long)).not.toBe(clientTokenFor(`${long}x`));
      expect(clientTokenFor('vps-café-abc123')).toMatch(/^hangar-[0-9a-f]{57}$/);
    });

    it('refuses specs EC2 can never launch, naming each problem, before any call', async () => {
      const noImage = awsSpec(contractInstanceId('no-image'));
      delete noImage.image;
      const many = awsSpec(contractInstanceId('bad'), {
        image: 'ubuntu-24.04',
        networks: ['vpc-0a1b2c3d4e5f60718'],
        securityGroups: ['default'],
        region: 'eu-west-1',
        tags: { 'aws:cloudformation': 'x', 'hangar:client': 'other' },
      });

      expect(() => provider.checkLaunchSpec(noImage)).toThrow(ValidationError);
      expect(() => provider.checkLaunchSpec(noImage)).toThrow('config.image: an AWS instance needs an image: give an AMI id (ami-…)');
      await expect(provider.launch(noImage)).rejects.toBeInstanceOf(ValidationError);
      const error = (() => {
        try {
          provider.checkLaunchSpec(many);
        } catch (e) {
          return e as ValidationError;
        }
        throw new Error('expected a ValidationError');
      })();
      expect(error.details.map((d) => d.path)).toEqual([
        'config.region',
        'config.image',
        'config.networks',
        'config.securityGroups',
        'tags.aws:cloudformation',
        'tags.hangar:client',
      ]);
      expect(error.message).toContain("'vpc-0a1b2c3d4e5f60718' is not a subnet id (subnet-…)");
      expect(ec2.calls).toEqual([]);
    });

    it('leaves room for its own three tags within the 50 EC2 allows', () => {
      const tags = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v']));

      expect(() => provider.checkLaunchSpec(awsSpec(contractInstanceId('tags'), { tags }))).toThrow('give at most 47');
      const staged = new Ec2Provider({ region: REGION, client: ec2.client, deployment: 'hangar-dev' });
      const fits = Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`k${i}`, 'v']));
      expect(() => staged.checkLaunchSpec(awsSpec(contractInstanceId('tags'), { tags: fits }))).not.toThrow();
      expect(() => staged.checkLaunchSpec(awsSpec(contractInstanceId('tags'), { tags: { ...fits, k46: 'v' } }))).toThrow('Hangar adds 4; give at most 46');
    });

    it('reports RequestLimitExceeded as throttled, with what was attempted', async () => {
      ec2.failNext('RunInstances', 'RequestLimitExceeded', 'Request limit exceeded.', { status: 503 });

      const error = (await provider.launch(awsSpec('vps-throttled-abc123')).catch((e: unknown) => e)) as ProviderError;

      expect(error).toBeInstanceOf(ProviderError);
      expect(error.kind).toBe('throttled');
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(
        'Could not launch vps-throttled-abc123 as t3.micro in us-east-1: Request limit exceeded (RequestLimitExceeded). ' +
          'AWS is rate-limiting EC2 calls for this account and region; Hangar retries with backoff.',
      );
    });

    it('reports InsufficientInstanceCapacity as capacity, which workflows retry', async () => {
      ec2.failNext(
        'RunInstances',
        'InsufficientInstanceCapacity',
        'We currently do not have sufficient g4dn.xlarge capacity in the Availability Zone you requested (us-east-1a).',
      );

      const error = (await provider.launch(awsSpec('gpu-capacity-abc123', { instanceType: 'g4dn.xlarge' })).catch((e: unknown) => e)) as ProviderError;

      expect(error.kind).toBe('capacity');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('do not have sufficient g4dn.xlarge capacity');
      expect(error.message).toContain('(InsufficientInstanceCapacity). Try another instance type or subnet');
      expect(error.message).not.toMatch(/\n\s+at /);
    });

    it('reports an unknown image as an invalid request', async () => {
      const error = (await provider.launch(awsSpec('vps-no-ami-abc123', { image: 'ami-00000000000000000' })).catch((e: unknown) => e)) as ProviderError;

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toContain('InvalidAMIID.NotFound');
      expect(ec2.callsOf('RunInstances')).toEqual([]);
    });
  });

  describe('describe', () => {
    it('maps the instance: state, addresses, placement, image and type', async () => {
      const ref = await launchRunning(awsSpec('vps-describe-abc123'));

      const machine = await provider.describe(ref);

      expect(machine).toEqual({
        providerInstanceId: ref.providerInstanceId,
        instanceId: 'vps-describe-abc123',
        state: 'running',
        privateIp: expect.stringMatching(/^10\.0\.1\.\d+$/),
        publicIp: expect.stringMatching(/^203\.0\.113\.\d+$/),
        details: { availabilityZone: 'us-east-1a', imageId: AMI, instanceType: 't3.micro', ec2State: 'running' },
      });
    });

    it('says why an instance stopped on its own, and nothing when Hangar stopped it', async () => {
      const selfStopped = ec2.seedInstance({
        state: 'stopped',
        stateReason: { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
      });
      const retired = ec2.seedInstance({
        state: 'stopped',
        stateReason: { Code: 'Server.ScheduledStop', Message: 'Server.ScheduledStop: Stopped due to scheduled retirement' },
      });
      const ref = await launchRunning();
      await provider.stop(ref);
      await waitForState(provider, ref, ['stopped'], { pollMs: 1 });

      expect((await provider.describe(refFor(selfStopped)))?.reason).toBe(
        'the instance shut itself down from its operating system (Client.InstanceInitiatedShutdown)',
      );
      expect((await provider.describe(refFor(retired)))?.reason).toBe(
        'AWS stopped the instance for a scheduled retirement of its host (Server.ScheduledStop)',
      );
      expect((await provider.describe(ref))?.reason).toBeUndefined();
    });

    it('treats shutting-down and terminated instances as gone', async () => {
      const shuttingDown = ec2.seedInstance({ state: 'shutting-down' });
      const terminated = ec2.seedInstance({ state: 'terminated' });
      ec2.settleAfterDescribes = 5;

      expect(await provider.describe(refFor(shuttingDown))).toBeNull();
      expect(await provider.describe(refFor(terminated))).toBeNull();
    });

    it('answers null for an unknown id, and for a malformed one without asking EC2', async () => {
      expect(await provider.describe(refFor('i-0123456789abcdef0'))).toBeNull();
      expect(ec2.callsOf('DescribeInstances')).toHaveLength(1);

      expect(await provider.describe(refFor('never-launched'))).toBeNull();
      expect(ec2.callsOf('DescribeInstances')).toHaveLength(1);
    });

    it('refuses a machine of another region instead of answering for the wrong one', async () => {
      const error = (await provider.describe({ ...refFor('i-0123456789abcdef0'), region: 'eu-west-1' }).catch((e: unknown) => e)) as ProviderError;

      expect(error.kind).toBe('invalid-request');
      expect(error.message).toContain('is in eu-west-1, but this AWS provider works in us-east-1');
    });

    it('maps a throttled describe to throttled', async () => {
      ec2.failNext('DescribeInstances', 'RequestLimitExceeded', 'Request limit exceeded.', { status: 503 });

      const error = (await provider.describe(refFor('i-0123456789abcdef0')).catch((e: unknown) => e)) as ProviderError;

      expect(error.kind).toBe('throttled');
    });
  });

  describe('describeMany', () => {
    it('chunks 2,500 ids into 3 DescribeInstances calls of at most 1,000', async () => {
      const ids = Array.from({ length: 2500 }, () => ec2.seedInstance({ state: 'running' }));

      const machines = await provider.describeMany(ids.map((id) => refFor(id)));

      const calls = ec2.callsOf('DescribeInstances');
      expect(DESCRIBE_IDS_PER_CALL).toBe(1000);
      expect(calls.map((call) => call.InstanceIds.length)).toEqual([1000, 1000, 500]);
      expect(calls.every((call) => call.MaxResults === undefined)).toBe(true);
      expect(machines.size).toBe(2500);
      expect([...machines.values()].every((machine) => machine?.state === 'running')).toBe(true);
    });

    it('answers null for unknown ids without losing the known ones', async () => {
      const known = [ec2.seedInstance(), ec2.seedInstance(), ec2.seedInstance({ state: 'terminated' })];
      const unknown = ['i-00000000000000001', 'i-00000000000000002'];

      const machines = await provider.describeMany([...known, ...unknown, 'not-an-id'].map((id) => refFor(id)));

      expect(machines.get(known[0]!)?.state).toBe('running');
      expect(machines.get(known[1]!)?.state).toBe('running');
      expect(machines.get(known[2]!)).toBeNull();
      expect(machines.get(unknown[0]!)).toBeNull();
      expect(machines.get(unknown[1]!)).toBeNull();
      expect(machines.get('not-an-id')).toBeNull();
      // The first call fails naming both unknown ids; the second asks for the rest.
      expect(ec2.callsOf('DescribeInstances').map((call) => call.InstanceIds.length)).toEqual([5, 3]);
    });

    it('halves the ids when EC2 does not say which ones are unknown', async () => {
      const known = [ec2.seedInstance(), ec2.seedInstance(), ec2.seedInstance(), ec2.seedInstance()];
      ec2.failNext('DescribeInstances', 'InvalidInstanceID.NotFound', 'An instance ID does not exist');

      const machines = await provider.describeMany(known.map((id) => refFor(id)));

      expect([...machines.values()].map((machine) => machine?.state)).toEqual(['running', 'running', 'running', 'running']);
      expect(ec2.callsOf('DescribeInstances').map((call) => call.InstanceIds.length)).toEqual([4, 2, 2]);
    });
  });

  describe('listOwned', () => {
    it('follows DescribeInstances pages and lists only live machines that carry the ownership tag', async () => {
      ec2.maxPageSize = 2;
      const launched: MachineRef[] = [];
      for (let i = 0; i < 5; i += 1) launched.push(await launchRunning());
      ec2.seedInstance({ tags: [{ Key: 'Name', Value: 'not ours' }] });
      const gone = await launchRunning();
      await provider.terminate(gone);
      ec2.calls.length = 0;

      const owned = await provider.listOwned();

      expect(owned.map((machine) => machine.providerInstanceId).sort()).toEqual(launched.map((ref) => ref.providerInstanceId).sort());
      expect(owned.map((machine) => machine.instanceId).sort()).toEqual(launched.map((ref) => ref.instanceId).sort());
      const pages = ec2.callsOf('DescribeInstances');
      expect(pages).toHaveLength(3);
      expect(pages[0]).toEqual({
        Filters: [
          { Name: 'tag-key', Values: ['hangar:instance-id'] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
        MaxResults: 1000,
      });
      expect(pages[0]?.NextToken).toBeUndefined();
      expect(pages[1]?.NextToken).toEqual(expect.any(String));
      expect(pages[2]?.NextToken).toEqual(expect.any(String));
      expect(pages[2]?.NextToken).not.toBe(pages[1]?.NextToken);
    });
  });

  describe('actions', () => {
    it('force-stops with Force: true', async () => {
      const ref = await launchRunning();

      await provider.stop(ref, { force: true });

      expect(ec2.callsOf('StopInstances')).toEqual([{ InstanceIds: [ref.providerInstanceId], Force: true }]);
      expect((await waitForState(provider, ref, ['stopped'], { pollMs: 1 })).state).toBe('stopped');
    });

    it('reboots softly with RebootInstances', async () => {
      const ref = await launchRunning();

      await provider.reboot(ref);

      expect(ec2.callsOf('RebootInstances')).toEqual([{ InstanceIds: [ref.providerInstanceId] }]);
      expect(ec2.get(ref.providerInstanceId)?.reboots).toBe(1);
      expect(ec2.callsOf('StopInstances')).toEqual([]);
    });

    it('reboots hard as a forced stop, a wait until stopped, and a start', async () => {
      const ref = await launchRunning();

      await provider.reboot(ref, { hard: true });
      const machine = await waitForState(provider, ref, ['running'], { pollMs: 1 });

      expect(ec2.callsOf('StopInstances')).toEqual([{ InstanceIds: [ref.providerInstanceId], Force: true }]);
      expect(ec2.callsOf('StartInstances')).toEqual([{ InstanceIds: [ref.providerInstanceId] }]);
      const order = ec2.calls.map((call) => call.command).filter((command) => command !== 'DescribeInstances');
      expect(order.slice(-2)).toEqual(['StopInstances', 'StartInstances']);
      expect(ec2.get(ref.providerInstanceId)?.forcedStops).toBe(1);
      expect(machine.state).toBe('running');
    });

    it('explains actions EC2 refuses for the instance state', async () => {
      const ref = await launchRunning();
      await provider.stop(ref);
      ec2.settleAfterDescribes = 100; // stays "stopping" for a while

      const startWhileStopping = (await provider.start(ref).catch((e: unknown) => e)) as ProviderError;
      ec2.setState(ref.providerInstanceId, 'stopped');
      const rebootWhileStopped = (await provider.reboot(ref).catch((e: unknown) => e)) as ProviderError;

      expect(startWhileStopping.kind).toBe('transient');
      expect(startWhileStopping.message).toBe(
        `Could not start ${ref.instanceId} (${ref.providerInstanceId}) in us-east-1: the instance is stopping; try again once it has settled`,
      );
      expect(rebootWhileStopped.kind).toBe('invalid-request');
      expect(rebootWhileStopped.message).toContain('the instance is stopped');
    });

    it('reports starting or stopping an instance that does not exist as not-found', async () => {
      const missing = refFor('i-0123456789abcdef0');

      await expect(provider.start(missing)).rejects.toMatchObject({ kind: 'not-found' });
      await expect(provider.stop(missing)).rejects.toMatchObject({ kind: 'not-found' });
    });

    it('terminates an instance that is already gone without complaint', async () => {
      await expect(provider.terminate(refFor('i-0123456789abcdef0'))).resolves.toBeUndefined();
      await expect(provider.terminate(refFor('never-launched'))).resolves.toBeUndefined();
    });

    it('passes other terminate failures on, mapped', async () => {
      ec2.failNext('TerminateInstances', 'UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: AbCdEf123');

      const error = (await provider.terminate(refFor('i-0123456789abcdef0')).catch((e: unknown) => e)) as ProviderError;

      expect(error.kind).toBe('auth');
      expect(error.message).toContain("You are not authorized to perform this operation (decode the details with 'aws sts decode-authorization-message')");
      expect(error.message).not.toContain('AbCdEf123');
    });
  });

  describe('testConnection', () => {
    it('asks DescribeRegions for its own region', async () => {
      await provider.testConnection();

      expect(ec2.callsOf('DescribeRegions')).toEqual([{ RegionNames: [REGION] }]);
    });

    it('turns refused credentials (AuthFailure) into an auth error that says why', async () => {
      ec2.failNext('DescribeRegions', 'AuthFailure', 'AWS was not able to validate the provided access credentials', { status: 401 });

      const error = (await provider.testConnection().catch((e: unknown) => e)) as ProviderError;

      expect(error).toBeInstanceOf(ProviderError);
      expect(error.kind).toBe('auth');
      expect(error.message).toBe(
        'Cannot connect to AWS EC2 in us-east-1: AWS was not able to validate the provided access credentials (AuthFailure). ' +
          "Check the account's AWS credentials and its IAM permissions for EC2.",
      );
    });
  });

  describe('listCatalog', () => {
    it('lists instance types with their vCPUs, memory and GPUs, priced from the shipped table', async () => {
      const flavors = await provider.listCatalog('flavors');

      const byId = new Map(flavors.map((flavor) => [flavor.id, flavor]));
      expect(byId.get('g4dn.xlarge')).toMatchObject({
        kind: 'flavors',
        name: 'g4dn.xlarge',
        region: REGION,
        hourlyMicros: 526_000,
        attributes: { vcpus: 4, memoryMiB: 16_384, gpus: 1, gpuModel: 'NVIDIA T4', gpuMemoryMiB: 16_384 },
      });
      expect(byId.get('p3.2xlarge')?.hourlyMicros).toBe(3_060_000);
      expect(byId.get('t3.micro')?.hourlyMicros).toBeUndefined();
      expect(byId.get('t3.micro')?.attributes).toMatchObject({ vcpus: 2, memoryMiB: 1024, gpus: 0 });
      expect(ec2.callsOf('DescribeInstanceTypes')[0]).toEqual({ MaxResults: 100 });
    });

    it("lists the account's own available images, bounded", async () => {
      const images = await provider.listCatalog('images');
      const bounded = await new Ec2Provider({ region: REGION, client: ec2.client, images: { maxItems: 1 } }).listCatalog('images');

      expect(images.map((image) => image.id)).toEqual([AMI, UBUNTU_AMI]);
      expect(images[1]).toMatchObject({ name: 'hangar-ubuntu-24.04', attributes: { rootDeviceName: '/dev/sda1', diskGB: 50, architecture: 'x86_64' } });
      expect(ec2.callsOf('DescribeImages')[0]).toEqual({ Owners: ['self'], Filters: [{ Name: 'state', Values: ['available'] }], MaxResults: 1000 });
      expect(bounded).toHaveLength(1);
    });

    it('lists VPCs, subnets, security groups and key pairs', async () => {
      const [networks, subnets, groups, keyPairs] = await Promise.all([
        provider.listCatalog('networks'),
        provider.listCatalog('subnets'),
        provider.listCatalog('securityGroups'),
        provider.listCatalog('keyPairs'),
      ]);

      expect(networks).toEqual([
        { kind: 'networks', id: 'vpc-0a1b2c3d4e5f60718', name: 'hangar-vpc', region: REGION, attributes: { cidr: '10.0.0.0/16', isDefault: false, status: 'available' } },
      ]);
      expect(subnets[0]).toMatchObject({ id: SUBNET, name: 'hangar-private-a', attributes: { networkId: 'vpc-0a1b2c3d4e5f60718', availabilityZone: 'us-east-1a', cidr: '10.0.1.0/24' } });
      expect(groups[0]).toMatchObject({ id: SECURITY_GROUP, name: 'hangar-workers', attributes: { networkId: 'vpc-0a1b2c3d4e5f60718' } });
      expect(keyPairs[0]).toMatchObject({ id: 'hangar-ops', name: 'hangar-ops', attributes: { keyPairId: 'key-0a1b2c3d4e5f60718', keyType: 'ed25519' } });
    });

    it('maps a refused catalog call like any other', async () => {
      ec2.failNext('DescribeVpcs', 'UnauthorizedOperation', 'You are not authorized to perform this operation.');

      await expect(provider.listCatalog('networks')).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('Could not list networks in us-east-1') });
    });
  });
});

describe('EC2 error taxonomy', () => {
  it.each([
    ['RequestLimitExceeded', 503, 'throttled'],
    ['Throttling', 400, 'throttled'],
    ['InsufficientInstanceCapacity', 500, 'capacity'],
    ['InstanceLimitExceeded', 400, 'capacity'],
    ['InsufficientCapacity', 400, 'capacity'],
    ['VcpuLimitExceeded', 400, 'capacity'],
    ['InvalidParameterValue', 400, 'invalid-request'],
    ['InvalidParameterCombination', 400, 'invalid-request'],
    ['InvalidAMIID.NotFound', 400, 'invalid-request'],
    ['InvalidAMIID.Malformed', 400, 'invalid-request'],
    ['IdempotentParameterMismatch', 400, 'invalid-request'],
    ['InvalidSubnetID.NotFound', 400, 'invalid-request'],
    ['InvalidKeyPair.NotFound', 400, 'invalid-request'],
    ['InvalidInstanceID.NotFound', 400, 'not-found'],
    ['AuthFailure', 401, 'auth'],
    ['UnauthorizedOperation', 403, 'auth'],
    ['InvalidClientTokenId', 403, 'auth'],
    ['InternalError', 500, 'transient'],
    ['Unavailable', 503, 'transient'],
    ['SomethingNew', 500, 'transient'],
    ['SomethingNew', 400, 'fatal'],
  ] as const)('%s (HTTP %i) is %s', (code, status, kind) => {
    expect(kindOfEc2Error(ec2Error(code, 'message', status))).toBe(kind);
  });

  it('treats network failures as transient and says what happened', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });

    const error = toProviderError(refused, 'describe i-0123456789abcdef0 in us-east-1');

    expect(error.kind).toBe('transient');
    expect(error.message).toBe(
      'Could not describe i-0123456789abcdef0 in us-east-1: connect ECONNREFUSED 127.0.0.1:4566. ' +
        'AWS EC2 could not be reached or answered with an error; trying again usually helps.',
    );
  });

  it('reads credentials the default chain could not find as an auth problem', () => {
    const missing = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });

    expect(kindOfEc2Error(missing)).toBe('auth');
    expect(describeEc2Error(missing)).toBe('Could not load credentials from any providers (CredentialsProviderError)');
  });
});

/**
 * The provider built from configuration alone (no injected client), against a local HTTP
 * endpoint that speaks EC2's and STS's query protocols: proves the endpoint override, the
 * credentials handed to the SDK and the SDK's own error parsing feeding the taxonomy.
 */
describe('Ec2Provider over HTTP (endpoint override)', () => {
  let server: Server;
  let endpoint: string;
  const requests: { action: string; accessKeyId: string; body: URLSearchParams }[] = [];

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const body = new URLSearchParams(await readBody(request));
      const accessKeyId = /Credential=([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const action = body.get('Action') ?? '';
      requests.push({ action, accessKeyId, body });
      response.setHeader('content-type', 'text/xml');
      if (action === 'AssumeRole') {
        response.end(assumeRoleXml);
      } else if (accessKeyId === 'AKIAREFUSED') {
        response.statusCode = 401;
        response.end(
          '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code>' +
            '<Message>AWS was not able to validate the provided access credentials</Message></Error></Errors>' +
            '<RequestID>7f4c7c1e-0000-0000-0000-000000000000</RequestID></Response>',
        );
      } else {
        response.end(describeRegionsXml);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  it('connects with access keys', async () => {
    const provider = new Ec2Provider({ region: REGION, endpoint, credentials: { accessKeyId: 'AKIAGOOD', secretAccessKey: 'secret' } });

    await provider.testConnection();

    expect(requests.map((r) => [r.action, r.accessKeyId])).toEqual([['DescribeRegions', 'AKIAGOOD']]);
    expect(requests[0]?.body.get('RegionName.1')).toBe(REGION);
  });

  it('reports keys EC2 refuses as an auth error starting "Cannot connect to AWS EC2 in <region>"', async () => {
    const provider = new Ec2Provider({ region: REGION, endpoint, credentials: { accessKeyId: 'AKIAREFUSED', secretAccessKey: 'secret' } });

    const error = (await provider.testConnection().catch((e: unknown) => e)) as ProviderError;

    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('auth');
    expect(error.message).toMatch(/^Cannot connect to AWS EC2 in us-east-1: AWS was not able to validate the provided access credentials \(AuthFailure\)/);
    expect(requests).toHaveLength(1); // the SDK does not retry refused credentials
  });

  it('assumes a role with its external id and signs EC2 calls with the temporary credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIABASE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'base-secret');
    const provider = new Ec2Provider({
      region: REGION,
      endpoint,
      credentials: { roleArn: 'arn:aws:iam::210987654321:role/hangar-tenant', externalId: 'tenant-acme' },
    });

    await provider.testConnection();

    expect(requests.map((r) => [r.action, r.accessKeyId])).toEqual([
      ['AssumeRole', 'AKIABASE'],
      ['DescribeRegions', 'ASIAASSUMED'],
    ]);
    expect(requests[0]?.body.get('RoleArn')).toBe('arn:aws:iam::210987654321:role/hangar-tenant');
    expect(requests[0]?.body.get('ExternalId')).toBe('tenant-acme');
  });
});

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => resolve(data));
    request.on('error', reject);
  });
}

const describeRegionsXml =
  '<?xml version="1.0" encoding="UTF-8"?><DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  '<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><regionInfo><item><regionName>us-east-1</regionName>' +
  '<regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>' +
  '</regionInfo></DescribeRegionsResponse>';

const assumeRoleXml =
  '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
  '<AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>assumed-token</SessionToken>' +
  '<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser>' +
  '<Arn>arn:aws:sts::210987654321:assumed-role/hangar-tenant/hangar</Arn><AssumedRoleId>AROAEXAMPLE:hangar</AssumedRoleId>' +
  '</AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>' +
  '</ResponseMetadata></AssumeRoleResponse>';

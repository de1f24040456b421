import { createHash } from 'node:crypto';
import type { RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import { ValidationError, type ErrorDetail } from '../../domain/errors.ts';
import type { LaunchSpec } from '../../ports/compute-provider.ts';

/** The ownership mark: every machine Hangar launches carries its Hangar id under this key. */
export const OWNER_TAG = 'hangar:instance-id';
export const CLIENT_TAG = 'hangar:client';
/** Which Hangar deployment launched the machine: stages sharing one account keep apart. */
export const DEPLOYMENT_TAG = 'hangar:deployment';
export const NAME_TAG = 'Name';

/** EC2 limits (User Guide: tag restrictions, user data, EBS volume types). */
const MAX_TAGS_PER_RESOURCE = 50;
const MAX_TAG_VALUE_LENGTH = 256;
const MAX_USER_DATA_BYTES = 16 * 1024;
const MAX_GP3_GIB = 16 * 1024;
const MAX_CLIENT_TOKEN_LENGTH = 64;
/** Name, owner and client; and the deployment, when there is one. */
const hangarTagCount = (deployment?: string) => (deployment ? 4 : 3);

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The RunInstances ClientToken for a Hangar instance: the public id itself when EC2 accepts it
 * (up to 64 printable ASCII characters, case-sensitive), so it reads back in DescribeInstances;
 * otherwise a digest of it. Either way the same instance always yields the same token, which is
 * what makes a retried launch return the first machine instead of creating a second.
 */
export function clientTokenFor(instanceId: string): string {
  if (instanceId.length <= MAX_CLIENT_TOKEN_LENGTH && PRINTABLE_ASCII.test(instanceId)) return instanceId;
  return `hangar-${createHash('sha256').update(instanceId).digest('hex')}`.slice(0, MAX_CLIENT_TOKEN_LENGTH);
}

/**
 * Refuse, before anything is recorded, a spec EC2 can never launch. EC2 takes ids only (ami-…,
 * subnet-…, sg-…); resolving names to ids is the catalog's job.
 */
export function checkEc2LaunchSpec(spec: LaunchSpec, region: string, deployment?: string): void {
  const problems: ErrorDetail[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });

  if (spec.region !== region) {
    problem('config.region', `this AWS provider launches in ${region}, not in '${spec.region}'`);
  }
  if (!spec.image) {
    problem('config.image', 'an AWS instance needs an image: give an AMI id (ami-…)');
  } else if (!AMI_ID.test(spec.image)) {
    problem('config.image', `'${spec.image}' is not an AMI id (ami-…)`);
  }
  const networks = spec.networks ?? [];
  if (networks.length > 1) {
    problem('config.networks', `an EC2 instance is launched into one subnet; got ${networks.length} networks`);
  }
  if (networks[0] !== undefined && !SUBNET_ID.test(networks[0])) {
    problem('config.networks', `'${networks[0]}' is not a subnet id (subnet-…); EC2 launches into a subnet`);
  }
  for (const group of spec.securityGroups ?? []) {
    if (!SECURITY_GROUP_ID.test(group)) problem('config.securityGroups', `'${group}' is not a security group id (sg-…)`);
  }
  if (spec.diskSizeGB !== undefined && (!Number.isInteger(spec.diskSizeGB) || spec.diskSizeGB < 1 || spec.diskSizeGB > MAX_GP3_GIB)) {
    problem('config.diskSizeGB', `a gp3 root volume is a whole number of GiB between 1 and ${MAX_GP3_GIB}`);
  }
  if (spec.userData !== undefined && Buffer.byteLength(spec.userData, 'utf8') > MAX_USER_DATA_BYTES) {
    problem('config.userData', `EC2 accepts at most ${MAX_USER_DATA_BYTES} bytes of user data`);
  }
  if (spec.name.length > MAX_TAG_VALUE_LENGTH) {
    problem('name', `the Name tag holds at most ${MAX_TAG_VALUE_LENGTH} characters`);
  }
  for (const key of Object.keys(spec.tags)) {
    if (key === NAME_TAG || key.startsWith('hangar:')) problem(`tags.${key}`, `'${key}' is set by Hangar itself`);
    else if (key.toLowerCase().startsWith('aws:')) problem(`tags.${key}`, "tag keys starting with 'aws:' are reserved by AWS");
  }
  const own = hangarTagCount(deployment);
  if (Object.keys(spec.tags).length + own > MAX_TAGS_PER_RESOURCE) {
    problem('tags', `EC2 allows ${MAX_TAGS_PER_RESOURCE} tags per instance and Hangar adds ${own}; give at most ${MAX_TAGS_PER_RESOURCE - own}`);
  }

  if (problems.length > 0) {
    const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new ValidationError(`Cannot launch ${spec.instanceId} on AWS: ${summary}`, problems);
  }
}

/** What RunInstances needs to know about the image's root volume. */
export interface RootDevice {
  /** /dev/xvda, /dev/sda1…: the image's RootDeviceName. */
  deviceName: string;
}

export function ownershipTags(spec: LaunchSpec, deployment?: string): Tag[] {
  const own: Tag[] = [
    { Key: OWNER_TAG, Value: spec.instanceId },
    { Key: CLIENT_TAG, Value: spec.clientId },
    ...(deployment ? [{ Key: DEPLOYMENT_TAG, Value: deployment }] : []),
    { Key: NAME_TAG, Value: spec.name },
  ];
  // Sorted so a retried launch sends byte-for-byte the same request (else IdempotentParameterMismatch).
  const theirs = Object.keys(spec.tags)
    .sort()
    .map((key) => ({ Key: key, Value: spec.tags[key] }));
  return [...own, ...theirs];
}

/** The one RunInstances request for a spec: deterministic, so retries stay idempotent. */
export function runInstancesInput(spec: LaunchSpec, root: RootDevice, deployment?: string): RunInstancesCommandInput {
  const tags = ownershipTags(spec, deployment);
  return {
    ClientToken: clientTokenFor(spec.instanceId),
    ImageId: spec.image,
    InstanceType: spec.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    BlockDeviceMappings: [
      {
        DeviceName: root.deviceName,
        Ebs: {
          VolumeType: 'gp3',
          DeleteOnTermination: true,
          ...(spec.diskSizeGB !== undefined ? { VolumeSize: spec.diskSizeGB } : {}),
        },
      },
    ],
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
    ...(spec.networks?.[0] ? { SubnetId: spec.networks[0] } : {}),
    ...(spec.securityGroups?.length ? { SecurityGroupIds: [...spec.securityGroups] } : {}),
    ...(spec.keyPair ? { KeyName: spec.keyPair } : {}),
    ...(spec.userData !== undefined ? { UserData: Buffer.from(spec.userData, 'utf8').toString('base64') } : {}),
  };
}

import type {
  Image,
  InstanceTypeInfo,
  KeyPairInfo,
  SecurityGroup,
  Subnet,
  Tag,
  Vpc,
} from '@aws-sdk/client-ec2';
import { findPrice } from '../../domain/catalog.ts';
import type { CatalogItem } from '../../ports/compute-provider.ts';

/** EC2 answers to catalog items. Absent facts are left out rather than invented. */

const nameTag = (tags: Tag[] | undefined) => tags?.find((tag) => tag.Key === 'Name')?.Value || undefined;

function defined(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

export function flavorItem(info: InstanceTypeInfo, region: string): CatalogItem | null {
  const type = info.InstanceType;
  if (!type) return null;
  const gpus = (info.GpuInfo?.Gpus ?? []).reduce((sum, gpu) => sum + (gpu.Count ?? 0), 0);
  const price = findPrice('AWS', type);
  return {
    kind: 'flavors',
    id: type,
    name: type,
    region,
    ...(price ? { hourlyMicros: price.hourlyMicros } : {}),
    attributes: defined({
      vcpus: info.VCpuInfo?.DefaultVCpus,
      memoryMiB: info.MemoryInfo?.SizeInMiB,
      gpus,
      gpuModel: info.GpuInfo?.Gpus?.[0] ? `${info.GpuInfo.Gpus[0].Manufacturer ?? ''} ${info.GpuInfo.Gpus[0].Name ?? ''}`.trim() : undefined,
      gpuMemoryMiB: info.GpuInfo?.TotalGpuMemoryInMiB,
      architectures: info.ProcessorInfo?.SupportedArchitectures,
      currentGeneration: info.CurrentGeneration,
    }),
  };
}

export function imageItem(image: Image, region: string): CatalogItem | null {
  if (!image.ImageId) return null;
  const root = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === image.RootDeviceName);
  return {
    kind: 'images',
    id: image.ImageId,
    name: image.Name ?? image.ImageId,
    region,
    attributes: defined({
      architecture: image.Architecture,
      platform: image.PlatformDetails ?? image.Platform,
      rootDeviceName: image.RootDeviceName,
      diskGB: root?.Ebs?.VolumeSize,
      ownerId: image.OwnerId,
      createdAt: image.CreationDate,
      status: image.State,
      description: image.Description,
    }),
  };
}

export function networkItem(vpc: Vpc, region: string): CatalogItem | null {
  if (!vpc.VpcId) return null;
  return {
    kind: 'networks',
    id: vpc.VpcId,
    name: nameTag(vpc.Tags) ?? vpc.VpcId,
    region,
    attributes: defined({ cidr: vpc.CidrBlock, isDefault: vpc.IsDefault, status: vpc.State }),
  };
}

export function subnetItem(subnet: Subnet, region: string): CatalogItem | null {
  if (!subnet.SubnetId) return null;
  return {
    kind: 'subnets',
    id: subnet.SubnetId,
    name: nameTag(subnet.Tags) ?? subnet.SubnetId,
    region,
    attributes: defined({
      cidr: subnet.CidrBlock,
      networkId: subnet.VpcId,
      availabilityZone: subnet.AvailabilityZone,
      availableIpAddresses: subnet.AvailableIpAddressCount,
      defaultForAz: subnet.DefaultForAz,
      status: subnet.State,
    }),
  };
}

export function securityGroupItem(group: SecurityGroup, region: string): CatalogItem | null {
  if (!group.GroupId) return null;
  return {
    kind: 'securityGroups',
    id: group.GroupId,
    name: group.GroupName ?? group.GroupId,
    region,
    attributes: defined({ networkId: group.VpcId, description: group.Description }),
  };
}

/** Key pairs are addressed by name in RunInstances (KeyName), so the name is the id. */
export function keyPairItem(pair: KeyPairInfo, region: string): CatalogItem | null {
  if (!pair.KeyName) return null;
  return {
    kind: 'keyPairs',
    id: pair.KeyName,
    name: pair.KeyName,
    region,
    attributes: defined({ keyPairId: pair.KeyPairId, keyType: pair.KeyType, fingerprint: pair.KeyFingerprint }),
  };
}

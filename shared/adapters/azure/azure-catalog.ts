import type { Image, SshPublicKeyResource, VirtualMachineSize } from '@azure/arm-compute';
import type { NetworkSecurityGroup, Subnet, VirtualNetwork } from '@azure/arm-network';
import { findPrice } from '../../domain/catalog.ts';
import type { CatalogItem } from '../../ports/compute-provider.ts';
import { IMAGE_ALIASES } from './azure-launch.ts';

/** A size, priced from the versioned table (Azure's Retail Prices API is not read here). */
export function flavorItem(size: VirtualMachineSize, region: string): CatalogItem | null {
  if (!size.name) return null;
  const price = findPrice('AZURE', size.name);
  return {
    kind: 'flavors',
    id: size.name,
    name: size.name,
    region,
    ...(price ? { hourlyMicros: price.hourlyMicros } : {}),
    attributes: {
      vcpus: size.numberOfCores ?? price?.vcpu,
      memoryMiB: size.memoryInMB ?? (price ? price.memoryGiB * 1024 : undefined),
      gpus: price?.gpus ?? 0,
      ...(size.osDiskSizeInMB !== undefined ? { osDiskMiB: size.osDiskSizeInMB } : {}),
      ...(size.resourceDiskSizeInMB !== undefined ? { resourceDiskMiB: size.resourceDiskSizeInMB } : {}),
      ...(size.maxDataDiskCount !== undefined ? { maxDataDisks: size.maxDataDiskCount } : {}),
    },
  };
}

/** The marketplace images Hangar knows by alias, as the URNs launch() takes. */
export function marketplaceImageItems(region: string): CatalogItem[] {
  return Object.entries(IMAGE_ALIASES).map(([alias, urn]) => {
    const [publisher, offer, sku, version] = urn.split(':');
    return { kind: 'images' as const, id: urn, name: alias, region, attributes: { source: 'marketplace', publisher, offer, sku, version } };
  });
}

export function customImageItem(image: Image, region: string): CatalogItem | null {
  if (!image.id || !image.name) return null;
  return {
    kind: 'images',
    id: image.id,
    name: image.name,
    region,
    attributes: { source: 'custom', ...(image.hyperVGeneration ? { hyperVGeneration: image.hyperVGeneration } : {}), ...(image.provisioningState ? { status: image.provisioningState } : {}) },
  };
}

export function networkItem(network: VirtualNetwork, region: string): CatalogItem | null {
  if (!network.id || !network.name) return null;
  return {
    kind: 'networks',
    id: network.id,
    name: network.name,
    region,
    attributes: { cidrs: network.addressSpace?.addressPrefixes ?? [], location: network.location, subnets: (network.subnets ?? []).map((subnet) => subnet.name) },
  };
}

export function subnetItem(subnet: Subnet, network: VirtualNetwork, region: string): CatalogItem | null {
  if (!subnet.id || !subnet.name) return null;
  return {
    kind: 'subnets',
    id: subnet.id,
    name: `${network.name}/${subnet.name}`,
    region,
    attributes: {
      networkId: network.id,
      cidr: subnet.addressPrefix ?? subnet.addressPrefixes?.[0],
      ...(subnet.networkSecurityGroup?.id ? { securityGroupId: subnet.networkSecurityGroup.id } : {}),
    },
  };
}

export function securityGroupItem(group: NetworkSecurityGroup, region: string): CatalogItem | null {
  if (!group.id || !group.name) return null;
  return { kind: 'securityGroups', id: group.id, name: group.name, region, attributes: { rules: group.securityRules?.length ?? 0, location: group.location } };
}

export function keyPairItem(key: SshPublicKeyResource, region: string): CatalogItem | null {
  if (!key.id || !key.name) return null;
  return { kind: 'keyPairs', id: key.id, name: key.name, region, attributes: { type: 'ssh-rsa' } };
}

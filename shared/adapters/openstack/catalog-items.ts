import { unitsToMicros } from '../../domain/money.ts';
import type { CatalogItem } from '../../ports/compute-provider.ts';
import type { GlanceImage } from './glance.ts';
import type { NeutronNetwork, NeutronSecurityGroup, NeutronSubnet } from './neutron.ts';
import type { NovaFlavor, NovaKeyPair } from './nova.ts';

/**
 * OpenStack resources as catalog items. OpenStack has no price API, so a flavor carries an
 * hourly price only when the operator put one in its extra specs:
 *
 *   openstack flavor set --property hangar:price_per_hour=0.045 m1.small
 *
 * (a decimal amount of currency units per hour). Without it `hourlyMicros` is undefined and the
 * tenant's price overrides or the shipped price table apply. GPUs are counted from
 * `pci_passthrough:alias` ("a100:2,t4:1" → 3) and `resources:VGPU`.
 */
export const PRICE_EXTRA_SPEC = 'hangar:price_per_hour';

export function flavorItem(flavor: NovaFlavor, extraSpecs: Record<string, string>, region: string): CatalogItem {
  const hourlyMicros = priceOf(extraSpecs);
  const gpus = gpusOf(extraSpecs);
  const swap = typeof flavor.swap === 'number' ? flavor.swap : 0;
  return {
    kind: 'flavors',
    id: flavor.id,
    name: flavor.name,
    region,
    ...(hourlyMicros !== undefined ? { hourlyMicros } : {}),
    attributes: {
      vcpus: flavor.vcpus,
      memoryMiB: flavor.ram,
      diskGB: flavor.disk,
      ephemeralGB: flavor['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
      swapMiB: swap,
      isPublic: flavor['os-flavor-access:is_public'] ?? true,
      gpus,
      extraSpecs,
    },
  };
}

export function priceOf(extraSpecs: Record<string, string>): number | undefined {
  const raw = extraSpecs[PRICE_EXTRA_SPEC];
  if (raw === undefined) return undefined;
  try {
    const micros = unitsToMicros(raw);
    return micros >= 0 ? micros : undefined;
  } catch {
    return undefined; // a malformed price is no price, not a failed sync
  }
}

export function gpusOf(extraSpecs: Record<string, string>): number {
  let gpus = 0;
  const alias = extraSpecs['pci_passthrough:alias'];
  if (alias) {
    for (const part of alias.split(',')) {
      const count = Number(part.split(':')[1] ?? '1');
      if (Number.isInteger(count) && count > 0) gpus += count;
    }
  }
  const vgpu = Number(extraSpecs['resources:VGPU'] ?? 0);
  if (Number.isInteger(vgpu) && vgpu > 0) gpus += vgpu;
  return gpus;
}

export function imageItem(image: GlanceImage, region: string): CatalogItem {
  return {
    kind: 'images',
    id: image.id,
    name: image.name || image.id,
    region,
    attributes: compact({
      status: image.status,
      visibility: image.visibility,
      diskFormat: image.disk_format,
      sizeBytes: image.size,
      minDiskGB: image.min_disk,
      minRamMiB: image.min_ram,
      osDistro: image.os_distro,
      osVersion: image.os_version,
      createdAt: image.created_at,
    }),
  };
}

export function networkItem(network: NeutronNetwork, region: string): CatalogItem {
  return {
    kind: 'networks',
    id: network.id,
    name: network.name || network.id,
    region,
    attributes: compact({
      status: network.status,
      shared: network.shared,
      external: network['router:external'],
      subnetIds: network.subnets,
      mtu: network.mtu,
    }),
  };
}

export function subnetItem(subnet: NeutronSubnet, region: string): CatalogItem {
  return {
    kind: 'subnets',
    id: subnet.id,
    name: subnet.name || subnet.id,
    region,
    attributes: compact({
      networkId: subnet.network_id,
      cidr: subnet.cidr,
      ipVersion: subnet.ip_version,
      gatewayIp: subnet.gateway_ip,
      enableDhcp: subnet.enable_dhcp,
    }),
  };
}

export function securityGroupItem(group: NeutronSecurityGroup, region: string): CatalogItem {
  return {
    kind: 'securityGroups',
    id: group.id,
    name: group.name || group.id,
    region,
    attributes: compact({ description: group.description, ruleCount: group.security_group_rules?.length }),
  };
}

/** Key pairs have no id of their own: the name is what Nova's key_name takes. */
export function keyPairItem(keyPair: NovaKeyPair, region: string): CatalogItem {
  return {
    kind: 'keyPairs',
    id: keyPair.name,
    name: keyPair.name,
    region,
    attributes: compact({ fingerprint: keyPair.fingerprint, type: keyPair.type }),
  };
}

function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined && value !== null));
}

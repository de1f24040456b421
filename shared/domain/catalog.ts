import { unitsToMicros, type Micros } from './money.ts';

export const PROVIDERS = ['LOCAL', 'AWS', 'OPENSTACK', 'AZURE', 'EXTERNAL'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** What an instance is for; the first segment of its public id. */
export const INSTANCE_KINDS = ['vps', 'gpu', 'cpu', 'worker', 'endpoint'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

/** What a provider offers, as listed live or synced into the catalog. */
export const CATALOG_KINDS = ['flavors', 'images', 'networks', 'subnets', 'securityGroups', 'keyPairs'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

/** Regions each provider understands before any catalog sync has run. */
export const DEFAULT_REGION: Readonly<Record<ProviderName, string>> = {
  LOCAL: 'local',
  AWS: 'us-east-1',
  OPENSTACK: 'RegionOne',
  AZURE: 'eastus',
  EXTERNAL: 'external',
};

export interface PriceEntry {
  provider: ProviderName;
  instanceType: string;
  vcpu: number;
  memoryGiB: number;
  gpus: number;
  hourlyMicros: Micros;
}

/**
 * The shipped price table. Bump the version whenever a price changes: every instance records
 * the version its price came from, so old bills stay explainable.
 */
export const PRICE_TABLE_VERSION = '2026-12-01';

const entry = (
  provider: ProviderName,
  instanceType: string,
  vcpu: number,
  memoryGiB: number,
  gpus: number,
  hourly: string,
): PriceEntry => ({ provider, instanceType, vcpu, memoryGiB, gpus, hourlyMicros: unitsToMicros(hourly) });

export const PRICE_TABLE: readonly PriceEntry[] = [
  // LOCAL processes are priced like small cloud machines so cost tracking can be exercised.
  entry('LOCAL', 'local.small', 1, 1, 0, '0.01'),
  entry('LOCAL', 'local.medium', 2, 4, 0, '0.04'),
  entry('LOCAL', 'local.large', 4, 16, 0, '0.12'),
  entry('LOCAL', 'local.xlarge', 8, 32, 0, '0.24'),
  // GPU prices from the provisioner documentation clients rely on.
  entry('AWS', 'p2.xlarge', 4, 61, 1, '0.90'),
  entry('AWS', 'p2.8xlarge', 32, 488, 8, '7.20'),
  entry('AWS', 'p3.2xlarge', 8, 61, 1, '3.06'),
  entry('AWS', 'g4dn.xlarge', 4, 16, 1, '0.526'),
  entry('AWS', 'g4dn.12xlarge', 48, 192, 4, '3.912'),
  // Azure's current GPU sizes: Linux pay-as-you-go list prices in East US (USD, as listed by the
  // Azure pricing calculator in 2025; not re-checked against the Retail Prices API here). The
  // seed's Standard_NC6/NC12/NC24/NV6/NV12 were retired in 2023: see retired-sizes.ts.
  entry('AZURE', 'Standard_NC4as_T4_v3', 4, 28, 1, '0.526'),
  entry('AZURE', 'Standard_NC8as_T4_v3', 8, 56, 1, '0.752'),
  entry('AZURE', 'Standard_NC16as_T4_v3', 16, 110, 1, '1.204'),
  entry('AZURE', 'Standard_NC64as_T4_v3', 64, 440, 4, '4.352'),
  entry('AZURE', 'Standard_NV6ads_A10_v5', 6, 55, 1, '0.454'),
  entry('AZURE', 'Standard_NV12ads_A10_v5', 12, 110, 1, '0.908'),
  entry('AZURE', 'Standard_NV36ads_A10_v5', 36, 440, 1, '3.20'),
  entry('AZURE', 'Standard_NC24ads_A100_v4', 24, 220, 1, '3.673'),
  entry('AZURE', 'Standard_NC40ads_H100_v5', 40, 320, 1, '6.98'),
];

export const priceEntriesFor = (provider: ProviderName) =>
  PRICE_TABLE.filter((e) => e.provider === provider);

export function findPrice(provider: ProviderName, instanceType: string): PriceEntry | undefined {
  return PRICE_TABLE.find((e) => e.provider === provider && e.instanceType === instanceType);
}

/** The cheapest listed type of `provider` that covers the requested cpu and memory. */
export function smallestFitting(
  provider: ProviderName,
  wanted: { cpu?: number; memory?: number },
): PriceEntry | undefined {
  return priceEntriesFor(provider)
    .filter((e) => e.vcpu >= (wanted.cpu ?? 0) && e.memoryGiB >= (wanted.memory ?? 0))
    .sort((a, b) => a.hourlyMicros - b.hourlyMicros)[0];
}

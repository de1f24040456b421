import type { ProviderName } from './catalog.ts';
import { ValidationError } from './errors.ts';

export interface RetiredSize {
  provider: ProviderName;
  instanceType: string;
  /** What the provider retired it for, and when. */
  retired: string;
  /** The current size to ask for instead: the same GPU count class, at a lower price. */
  replacement: string;
}

/**
 * Sizes the provisioner Hangar replaces documented but the provider no longer offers. Azure
 * retired the NC (K80) and NV (M60) series on 2023-09-06; a create naming one is refused up front
 * with the current equivalent instead of failing at the provider.
 */
export const RETIRED_SIZES: readonly RetiredSize[] = [
  { provider: 'AZURE', instanceType: 'Standard_NC6', retired: 'NVIDIA K80, retired by Azure in September 2023', replacement: 'Standard_NC4as_T4_v3' },
  { provider: 'AZURE', instanceType: 'Standard_NC12', retired: 'NVIDIA K80, retired by Azure in September 2023', replacement: 'Standard_NC16as_T4_v3' },
  { provider: 'AZURE', instanceType: 'Standard_NC24', retired: 'NVIDIA K80, retired by Azure in September 2023', replacement: 'Standard_NC64as_T4_v3' },
  { provider: 'AZURE', instanceType: 'Standard_NV6', retired: 'NVIDIA M60, retired by Azure in September 2023', replacement: 'Standard_NV6ads_A10_v5' },
  { provider: 'AZURE', instanceType: 'Standard_NV12', retired: 'NVIDIA M60, retired by Azure in September 2023', replacement: 'Standard_NV12ads_A10_v5' },
];

export function findRetiredSize(provider: ProviderName, instanceType: string): RetiredSize | undefined {
  return RETIRED_SIZES.find((size) => size.provider === provider && size.instanceType.toLowerCase() === instanceType.toLowerCase());
}

/** A 400 naming the current equivalent when `instanceType` is a retired size; nothing otherwise. */
export function refuseRetiredSize(provider: ProviderName, instanceType: string | undefined): void {
  const retired = instanceType ? findRetiredSize(provider, instanceType) : undefined;
  if (!retired) return;
  throw new ValidationError(
    `${retired.instanceType} is no longer offered by ${provider} (${retired.retired}); use ${retired.replacement} instead`,
    [{ path: 'config.instanceType', message: `retired; use ${retired.replacement}` }],
    'INSTANCE_TYPE_RETIRED',
  );
}

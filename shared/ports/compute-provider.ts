import type { CatalogKind, ProviderName } from '../domain/catalog.ts';
import type { LaunchSpec } from '../domain/instance.ts';

// Declared in the domain (derived from the instance and its config); re-exported for adapters.
export { CATALOG_KINDS, type CatalogKind } from '../domain/catalog.ts';
export type { LaunchSpec } from '../domain/instance.ts';

/** How Hangar addresses a machine at its provider: always by the provider's own id. */
export interface MachineRef {
  instanceId: string;
  providerInstanceId: string;
  region: string;
  accountId?: string;
}

/** The provider's view of a machine, mapped onto a small common vocabulary. */
export type MachineState = 'pending' | 'running' | 'stopping' | 'stopped' | 'terminated' | 'error';

export interface Machine {
  providerInstanceId: string;
  /** The Hangar id the machine was launched for, when the provider records it (ownership tag). */
  instanceId?: string;
  state: MachineState;
  privateIp?: string;
  publicIp?: string;
  port?: number;
  details?: Record<string, string | number>;
  /** Why the machine is in `error` or stopped on its own, in words a person can act on. */
  reason?: string;
}


export interface CatalogItem {
  kind: CatalogKind;
  /** The provider's own id (flavor id, ami-…, subnet-…, Nova UUID). */
  id: string;
  name: string;
  region: string;
  /** Flavors / instance types: the hourly price in micro-units when known. */
  hourlyMicros?: number;
  /** Kind-specific facts: vcpus, memoryMiB, diskGB, gpus, extraSpecs, cidr, networkId, status… */
  attributes: Record<string, unknown>;
}

export interface ResourceSample {
  cpuPercent: number;
  memoryBytes: number;
  sampledAt: string;
}

/**
 * The one port every provider adapter implements. Every method is idempotent: a retried call
 * after a timeout must not create a second machine or fail because the first call succeeded.
 */
export interface ComputeProvider {
  readonly name: ProviderName;
  /** Refuse a spec this provider can never launch (unknown image…) before anything is recorded. */
  checkLaunchSpec?(spec: LaunchSpec): void;
  /**
   * Refuse, before anything is recorded, a spec this account's cloud cannot launch as it is set
   * up (a disk no flavor can hold without a volume service…), saying what would work: a
   * ValidationError. It may ask the cloud; when it cannot tell, it lets the launch decide.
   */
  preflight?(spec: LaunchSpec): Promise<void>;
  /** Create the machine, or return the one already created for `spec.instanceId`. */
  launch(spec: LaunchSpec): Promise<Machine>;
  /** The machine as the provider sees it now; null once it no longer exists. */
  describe(ref: MachineRef): Promise<Machine | null>;
  /** Every machine this provider holds that carries Hangar's ownership mark. */
  listOwned(): Promise<Machine[]>;
  start(ref: MachineRef): Promise<void>;
  stop(ref: MachineRef, options?: { force?: boolean }): Promise<void>;
  reboot(ref: MachineRef, options?: { hard?: boolean }): Promise<void>;
  /** Release the machine; succeeds when it is already gone. */
  terminate(ref: MachineRef): Promise<void>;
  /** Resource usage now, where the provider can measure it. */
  sample?(ref: MachineRef): Promise<ResourceSample | null>;
  /**
   * Prove the account's credentials and endpoint work. Throws ProviderError (kind 'auth' for
   * refused credentials) whose message says why, e.g. "Cannot connect to OpenStack at …: 401".
   */
  testConnection(): Promise<void>;
  /** What this account offers of one kind, read live. */
  listCatalog(kind: CatalogKind): Promise<CatalogItem[]>;
}

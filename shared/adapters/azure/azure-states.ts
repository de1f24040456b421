import type { MachineState } from '../../ports/compute-provider.ts';
import { explainProvisioningFailure } from './azure-errors.ts';

/** One entry of a VM's instance view (`ProvisioningState/succeeded`, `PowerState/running`…). */
export interface InstanceViewStatus {
  code?: string;
  level?: string;
  displayStatus?: string;
  message?: string;
}

/**
 * A VM's power state (instance view, "States and billing status of Azure Virtual Machines") onto
 * the port's vocabulary. `stopped` is powered off but still allocated (compute still billed);
 * `deallocated` is what Hangar's stop asks for. Both are `stopped` for the lifecycle; the
 * difference stays visible in details.powerState.
 */
const POWER_STATES: Readonly<Record<string, MachineState>> = {
  starting: 'pending',
  running: 'running',
  stopping: 'stopping',
  deallocating: 'stopping',
  stopped: 'stopped',
  deallocated: 'stopped',
};

export interface VmState {
  state: MachineState;
  powerState?: string;
  provisioningState?: string;
  reason?: string;
}

/**
 * The machine state from the VM's provisioning state and instance view.
 *
 * - `Deleting` is gone for Hangar: a delete cannot be undone and compute billing has ended; the
 *   NIC, public IP and OS disk go with the VM (deleteOption Delete).
 * - `Failed` with no running power state is `error`, with Compute's own code and message
 *   (AllocationFailed, SkuNotAvailable…) turned into a reason a person can act on. A VM that
 *   failed a later update but still runs stays `running`.
 * - No power state yet (the create is under way) is `pending`.
 */
export function vmStateOf(provisioningState: string | undefined, statuses: readonly InstanceViewStatus[] = []): VmState {
  const provisioning = provisioningState ?? provisioningOf(statuses);
  const power = statuses.find((status) => status.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
  const base = { ...(power ? { powerState: power } : {}), ...(provisioning ? { provisioningState: provisioning } : {}) };
  if (provisioning?.toLowerCase() === 'deleting') return { ...base, state: 'terminated' };
  if (provisioning?.toLowerCase() === 'failed' && power !== 'running') {
    const failed = statuses.find((status) => status.code?.startsWith('ProvisioningState/failed'));
    const code = failed?.code?.split('/')[2] ?? 'ProvisioningFailed';
    return { ...base, state: 'error', reason: explainProvisioningFailure(code, failed?.message ?? failed?.displayStatus).reason };
  }
  const state = power ? (POWER_STATES[power] ?? 'pending') : 'pending';
  const reason = power === 'stopped' ? 'powered off but still allocated: Azure keeps billing compute until it is deallocated (stop it again through Hangar)' : undefined;
  return { ...base, state, ...(reason ? { reason } : {}) };
}

function provisioningOf(statuses: readonly InstanceViewStatus[]): string | undefined {
  const code = statuses.find((status) => status.code?.startsWith('ProvisioningState/'))?.code;
  const value = code?.split('/')[1];
  return value ? value.charAt(0).toUpperCase() + value.slice(1) : undefined;
}

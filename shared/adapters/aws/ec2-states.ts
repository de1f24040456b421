import type { InstanceStateName, StateReason } from '@aws-sdk/client-ec2';
import type { MachineState } from '../../ports/compute-provider.ts';

/**
 * EC2 instance states (API reference, InstanceState) onto the port's vocabulary.
 *
 * `shutting-down` maps to `terminated`, not `stopping`: it is the first step of termination,
 * cannot be undone, and EC2 stops billing the instance from that moment. Reporting it as
 * `stopping` would make a machine that is being released look like one that can be started
 * again, and the contract expects describe() to say "gone" as soon as terminate() returns.
 */
const STATE_MAP: Readonly<Record<InstanceStateName, MachineState>> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  'shutting-down': 'terminated',
  terminated: 'terminated',
};

/** The EC2 states of a machine that still exists for Hangar (filter values for listOwned). */
export const LIVE_EC2_STATES: readonly InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped'];

export function machineStateOf(ec2State: string | undefined): MachineState {
  // An unknown future state is safer read as "in transition" than as gone or healthy.
  return STATE_MAP[ec2State as InstanceStateName] ?? 'pending';
}

/** State reasons that mean Hangar (or a person through the API) asked for the change. */
const REQUESTED = new Set(['Client.UserInitiatedShutdown', 'Client.UserInitiatedHibernate']);

/** The words for state-reason codes EC2 documents, so an operator reads a cause, not a code. */
const REASON_TEXT: Readonly<Record<string, string>> = {
  'Client.InstanceInitiatedShutdown': 'the instance shut itself down from its operating system',
  'Server.ScheduledStop': 'AWS stopped the instance for a scheduled retirement of its host',
  'Server.SpotInstanceShutdown': 'AWS reclaimed the Spot capacity and stopped the instance',
  'Server.SpotInstanceTermination': 'AWS reclaimed the Spot capacity and terminated the instance',
  'Server.InsufficientInstanceCapacity': 'AWS had no capacity for this instance type when it was started',
  'Server.InternalError': 'an internal AWS error stopped the instance',
  'Client.InternalError': 'the instance failed to boot (client error at launch)',
  'Client.VolumeLimitExceeded': 'the account reached its EBS volume limit',
  'Client.InvalidSnapshot.NotFound': "the image's snapshot no longer exists",
  'Client.InstanceTerminated': 'the instance was terminated or rebooted during image creation',
};

/**
 * Why a machine stopped or terminated on its own, in words a person can act on; undefined when
 * the change was requested through the API (then there is nothing to explain).
 */
export function unrequestedReason(state: MachineState, reason: StateReason | undefined): string | undefined {
  if (state !== 'stopped' && state !== 'terminated') return undefined;
  const code = reason?.Code;
  if (!code || REQUESTED.has(code)) return undefined;
  const text = REASON_TEXT[code] ?? reason?.Message ?? code;
  return `${text} (${code})`;
}

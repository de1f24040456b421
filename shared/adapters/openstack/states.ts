import type { MachineState } from '../../ports/compute-provider.ts';

/**
 * Nova's server `status` (with `OS-EXT-STS:task_state` while an operation runs) mapped onto the
 * port's MachineState. `null` means the server is gone: describe() answers null, the sync
 * service sees 'terminated'.
 *
 * | Nova status                 | task_state            | MachineState | why |
 * |-----------------------------|-----------------------|--------------|-----|
 * | BUILD                       | any                   | pending      | being created |
 * | ACTIVE                      | none / other          | running      | up (snapshots, live migration keep it up) |
 * | ACTIVE                      | powering-off          | stopping     | os-stop accepted, guest shutting down |
 * | ACTIVE                      | rebooting*, reboot_*  | pending      | coming back; Hangar waits for running |
 * | ACTIVE / SHUTOFF / any      | deleting              | stopping     | DELETE accepted, not done: Nova may still fail it (ERROR), and the server keeps its port and quota until it is gone |
 * | REBOOT, HARD_REBOOT         | any                   | pending      | rebooting |
 * | REBUILD, RESIZE, REVERT_RESIZE | any                | pending      | the guest is down while Nova works |
 * | VERIFY_RESIZE, MIGRATING, PASSWORD | any            | running      | the guest is up |
 * | SHUTOFF, STOPPED            | none                  | stopped      | powered off, disk kept |
 * | SHUTOFF                     | powering-on           | pending      | os-start accepted |
 * | PAUSED, SUSPENDED, SHELVED… | any                   | stopped      | not serving; resumed outside Hangar (os-start cannot) |
 * | RESCUE                      | any                   | error        | booted from a rescue image: a person must unrescue it |
 * | ERROR                       | any                   | error        | reason = fault.message (e.g. "No valid host was found.") |
 * | UNKNOWN                     | any                   | error        | Nova lost contact with the compute host |
 * | DELETED, SOFT_DELETED       | any                   | null (gone)  | only changes-since lists these |
 * | anything else               | any                   | pending      | a newer Nova status: keep polling rather than act on a guess |
 */
export interface NovaStatus {
  status: string;
  taskState?: string | null;
  faultMessage?: string | undefined;
}

export interface MappedState {
  state: MachineState;
  reason?: string;
}

const REBOOT_TASK_STATES = new Set([
  'rebooting',
  'reboot_pending',
  'reboot_started',
  'rebooting_hard',
  'reboot_pending_hard',
  'reboot_started_hard',
]);

export function machineStateOf({ status, taskState, faultMessage }: NovaStatus): MappedState | null {
  const upper = status.toUpperCase();
  if (upper === 'DELETED' || upper === 'SOFT_DELETED') return null;
  // Not 'terminated': only Nova's 404 (or DELETED) says the server is gone, and a record must not
  // say TERMINATED while Nova still holds a server that may yet fail to delete.
  if (taskState === 'deleting' || taskState === 'soft-deleting') return { state: 'stopping' };
  switch (upper) {
    case 'BUILD':
      return { state: 'pending' };
    case 'ACTIVE':
      if (taskState === 'powering-off') return { state: 'stopping' };
      if (taskState && REBOOT_TASK_STATES.has(taskState)) return { state: 'pending' };
      return { state: 'running' };
    case 'REBOOT':
    case 'HARD_REBOOT':
    case 'REBUILD':
    case 'RESIZE':
    case 'REVERT_RESIZE':
      return { state: 'pending' };
    case 'VERIFY_RESIZE':
    case 'MIGRATING':
    case 'PASSWORD':
      return { state: 'running' };
    case 'SHUTOFF':
    case 'STOPPED':
      return taskState === 'powering-on' ? { state: 'pending' } : { state: 'stopped' };
    case 'PAUSED':
    case 'SUSPENDED':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
      return { state: 'stopped', reason: `The server is ${upper.toLowerCase().replace('_', ' ')} in OpenStack` };
    case 'RESCUE':
      return { state: 'error', reason: 'The server is in rescue mode; unrescue it in OpenStack' };
    case 'ERROR':
      return { state: 'error', reason: faultMessage?.trim() || 'Nova reports the server in ERROR without a fault message' };
    case 'UNKNOWN':
      return { state: 'error', reason: 'Nova lost contact with the compute host (status UNKNOWN)' };
    default:
      return { state: 'pending' };
  }
}

import { IllegalTransitionError } from './errors.ts';

/** Every status an instance can be in. READY = up and idle; RUNNING = up with a task on it. */
export const INSTANCE_STATUSES = [
  'PENDING',
  'PROVISIONING',
  'CONFIGURING',
  'READY',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'STARTING',
  'REBOOTING',
  'TERMINATING',
  'TERMINATED',
  'ERROR',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/**
 * What can happen to an instance. User actions come through the API; system events are
 * raised by the provisioning steps and by the provider watching the machine.
 */
export const INSTANCE_ACTIONS = [
  // user actions
  'start',
  'stop',
  'kill',
  'reboot',
  'terminate',
  'extend',
  'startTask',
  'finishTask',
  // system events
  'reserve',
  'launched',
  'activate',
  'stopped',
  'started',
  'rebooted',
  'terminated',
  'fail',
  // what status reconciliation finds at the provider
  'observedStopped',
  'observedRunning',
  'vanished',
] as const;
export type InstanceAction = (typeof INSTANCE_ACTIONS)[number];

const ALL = INSTANCE_STATUSES;
const except = (...excluded: InstanceStatus[]) => ALL.filter((s) => !excluded.includes(s));

/** A status an instance never leaves. */
export const FINAL_STATUSES: readonly InstanceStatus[] = ['TERMINATED'];
/** Statuses in which a machine exists at the provider and is not on its way out. */
export const LIVE_STATUSES: readonly InstanceStatus[] = except('TERMINATING', 'TERMINATED');
/** Statuses in which the provider charges for the machine, so cost accrues. */
export const BILLABLE_STATUSES: readonly InstanceStatus[] = ['READY', 'RUNNING', 'REBOOTING', 'STOPPING'];
/** Statuses counted as "currently running" in statistics. */
export const UP_STATUSES: readonly InstanceStatus[] = ['READY', 'RUNNING'];
/** Statuses that a workflow is expected to move on from by itself. */
export const TRANSITIONAL_STATUSES: readonly InstanceStatus[] = [
  'PENDING',
  'PROVISIONING',
  'CONFIGURING',
  'STOPPING',
  'STARTING',
  'REBOOTING',
  'TERMINATING',
];

interface Transition {
  from: readonly InstanceStatus[];
  /** `null` keeps the current status (an action that changes attributes only). */
  to: InstanceStatus | null;
}

/** The one transition table. Every write of a status goes through `nextStatus`. */
export const TRANSITIONS: Readonly<Record<InstanceAction, Transition>> = {
  reserve: { from: ['PENDING'], to: 'PROVISIONING' },
  launched: { from: ['PROVISIONING'], to: 'CONFIGURING' },
  activate: { from: ['CONFIGURING'], to: 'READY' },
  startTask: { from: ['READY'], to: 'RUNNING' },
  finishTask: { from: ['RUNNING'], to: 'READY' },
  stop: { from: ['READY', 'RUNNING'], to: 'STOPPING' },
  // A forced stop may also cut short a start, a reboot or a stop that hangs.
  kill: { from: ['READY', 'RUNNING', 'STARTING', 'REBOOTING', 'STOPPING'], to: 'STOPPING' },
  stopped: { from: ['STOPPING'], to: 'STOPPED' },
  start: { from: ['STOPPED'], to: 'STARTING' },
  started: { from: ['STARTING'], to: 'READY' },
  reboot: { from: ['READY', 'RUNNING'], to: 'REBOOTING' },
  rebooted: { from: ['REBOOTING'], to: 'READY' },
  terminate: { from: except('TERMINATING', 'TERMINATED'), to: 'TERMINATING' },
  terminated: { from: ['TERMINATING'], to: 'TERMINATED' },
  fail: { from: except('TERMINATED', 'ERROR'), to: 'ERROR' },
  extend: { from: except('TERMINATING', 'TERMINATED', 'ERROR'), to: null },
  // Drift: the provider's word wins over a settled status; a workflow in flight is left alone.
  observedStopped: { from: ['READY', 'RUNNING'], to: 'STOPPED' },
  observedRunning: { from: ['STOPPED'], to: 'READY' },
  // A ghost: the provider confirmed the machine gone, so the record closes without a workflow.
  vanished: { from: ['READY', 'RUNNING', 'STOPPED', 'ERROR'], to: 'TERMINATED' },
};

export function canApply(status: InstanceStatus, action: InstanceAction): boolean {
  return TRANSITIONS[action].from.includes(status);
}

/** The status after `action`, or an IllegalTransitionError that names the current status. */
export function nextStatus(status: InstanceStatus, action: InstanceAction): InstanceStatus {
  const transition = TRANSITIONS[action];
  if (!transition.from.includes(status)) {
    throw new IllegalTransitionError(status, action, transition.from);
  }
  return transition.to ?? status;
}

export const isBillable = (status: InstanceStatus) => BILLABLE_STATUSES.includes(status);
export const isUp = (status: InstanceStatus) => UP_STATUSES.includes(status);
export const isLive = (status: InstanceStatus) => LIVE_STATUSES.includes(status);
export const isFinal = (status: InstanceStatus) => FINAL_STATUSES.includes(status);
export const isTransitional = (status: InstanceStatus) => TRANSITIONAL_STATUSES.includes(status);

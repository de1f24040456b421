import type { InstanceAction, InstanceStatus } from './lifecycle.ts';

/** One line of an instance's history; written in the same transaction as the change it records. */
export interface InstanceEvent {
  eventId: string;
  instanceId: string;
  clientId: string;
  /** e.g. `instance.created`, `instance.status-changed`, `provisioning.launch-requested` */
  type: string;
  action?: InstanceAction;
  fromStatus?: InstanceStatus;
  toStatus?: InstanceStatus;
  /** `key:<keyId>` for a person's request, `system:<component>` for Hangar itself. */
  actor: string;
  message: string;
  at: string;
  data?: Record<string, unknown>;
}

export const SYSTEM_ACTOR = (component: string) => `system:${component}`;
export const KEY_ACTOR = (keyId: string) => `key:${keyId}`;

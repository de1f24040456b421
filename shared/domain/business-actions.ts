import { isPlatformAdmin, type Principal } from './roles.ts';

/**
 * A business action: one act on a client's objects, by the client's own key or by the platform
 * admin acting for it (DESIGN, Business). Written in the same transaction as the change it
 * records, so the log never claims a change that did not happen, nor misses one that did.
 */
export interface BusinessAction {
  actionId: string;
  at: string;
  /** `key:<keyId>` of whoever asked. */
  actor: string;
  /** Whose objects were acted on. */
  clientId: string;
  /** `instance.create`, `instance.stop`, `client.update`, `api-key.create`… */
  action: string;
  /** What was acted on: `instance:<id>`, `client:<id>`, `api-key:<id>`, `account:<id>`. */
  target: string;
  /** What changed, and `actorRole` / `onBehalfOf` when the platform admin acted for the client. */
  details: Record<string, unknown>;
}

/** A business action as a use case writes it; the repository gives it its id (and time). */
export type NewBusinessAction = Omit<BusinessAction, 'actionId' | 'at'> & { at?: string };

export interface BusinessActionFilter {
  /** Absent: every client (the platform admin only). */
  clientId?: string;
  action?: string;
  actor?: string;
  /** [from, to) as ISO instants. */
  from?: string;
  to?: string;
}

/** The business action for `principal` doing `action` to `target` of `clientId`. */
export function businessAction(
  principal: Principal,
  clientId: string,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
  at?: string,
): NewBusinessAction {
  return {
    actor: `key:${principal.keyId}`,
    clientId,
    action,
    target,
    details: { ...details, actorRole: principal.role, ...(isPlatformAdmin(principal) ? { onBehalfOf: clientId } : {}) },
    ...(at ? { at } : {}),
  };
}

/** Whether `a` passes `filter` (the memory adapter and the DynamoDB filter agree on this). */
export function matchesFilter(a: BusinessAction, filter: BusinessActionFilter): boolean {
  return (
    (!filter.clientId || a.clientId === filter.clientId) &&
    (!filter.action || a.action === filter.action || a.action.startsWith(`${filter.action}.`)) &&
    (!filter.actor || a.actor === filter.actor || a.actor === `key:${filter.actor}`) &&
    (!filter.from || a.at >= filter.from) &&
    (!filter.to || a.at < filter.to)
  );
}

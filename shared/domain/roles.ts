import { ForbiddenError } from './errors.ts';

/** Roles from most to least powerful; each can do everything the ones after it can. */
export const ROLES = ['platform-admin', 'admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
/** Roles a client's own key may hold (platform-admin keys belong to no client). */
export const CLIENT_ROLES = ['admin', 'operator', 'viewer'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** Who is calling: resolved from the API key on every request. */
export interface Principal {
  keyId: string;
  role: Role;
  /** The tenant the key belongs to; null for the platform admin, who acts for any client. */
  clientId: string | null;
}

/** Fails closed: a role this code does not know grants nothing. */
export function hasRole(principal: Principal, least: Role): boolean {
  const held = ROLES.indexOf(principal.role);
  const needed = ROLES.indexOf(least);
  return held >= 0 && needed >= 0 && held <= needed;
}

export function requireRole(principal: Principal, least: Role, doing: string): void {
  if (!hasRole(principal, least)) {
    throw new ForbiddenError(`Role '${principal.role}' cannot ${doing}; it needs '${least}' or higher`);
  }
}

export const isPlatformAdmin = (principal: Principal) => principal.role === 'platform-admin';

/** The clientId stored on platform-admin keys, which belong to no client. */
export const PLATFORM_CLIENT_ID = 'PLATFORM';

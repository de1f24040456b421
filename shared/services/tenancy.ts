import type { Client } from '../domain/client.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { isPlatformAdmin, type Principal } from '../domain/roles.ts';
import { clientNameKey } from '../domain/client.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * The client a request acts for. A client's key acts only for its own client; naming another
 * is a 404, never a 403, so ids of other tenants cannot be probed. The platform admin names
 * the client by id or by name.
 */
export async function resolveClient(
  deps: Pick<ServiceDeps, 'clients'>,
  principal: Principal,
  requested: string | undefined,
): Promise<Client> {
  if (!isPlatformAdmin(principal)) {
    if (requested && requested !== principal.clientId) throw new NotFoundError('Client', requested);
    const own = await deps.clients.get(principal.clientId!);
    if (!own) throw new ForbiddenError('The client this key belongs to no longer exists');
    return own;
  }
  if (!requested) {
    throw new ValidationError('clientId is required when acting as the platform admin', [
      { path: 'clientId', message: 'name the client (by id or by name) this request acts for' },
    ]);
  }
  const client = (await deps.clients.get(requested)) ?? (await deps.clients.findByName(clientNameKey(requested)));
  if (!client) throw new NotFoundError('Client', requested);
  return client;
}

/**
 * Run `read` for the client a request acts for. A tenant's key names its client, and the
 * authenticator answers a client's key only while that client exists, so a tenant's read needs
 * no read of the client's record: one round trip. The platform admin's named client is resolved
 * first (by id or by name).
 */
export async function readForClient<T>(
  deps: Pick<ServiceDeps, 'clients'>,
  principal: Principal,
  requested: string | undefined,
  read: (clientId: string) => Promise<T>,
): Promise<{ clientId: string; result: T }> {
  const own = isPlatformAdmin(principal) ? null : principal.clientId!;
  if (own) {
    if (requested && requested !== own) throw new NotFoundError('Client', requested);
    return { clientId: own, result: await read(own) };
  }
  const { clientId } = await resolveClient(deps, principal, requested);
  return { clientId, result: await read(clientId) };
}

/** The client id an instance lookup is scoped to; undefined lets the platform admin see any. */
export const scopeOf = (principal: Principal): string | undefined =>
  isPlatformAdmin(principal) ? undefined : principal.clientId!;

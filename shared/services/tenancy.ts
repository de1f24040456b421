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
 * Resolve the client a request acts for and run `read` for it. A tenant's key already names its
 * client, so the read runs while the client's record is checked: one round trip, not two. A
 * refused request fails as resolveClient fails; the read's answer is then dropped.
 */
export async function readForClient<T>(
  deps: Pick<ServiceDeps, 'clients'>,
  principal: Principal,
  requested: string | undefined,
  read: (clientId: string) => Promise<T>,
): Promise<{ client: Client; result: T }> {
  const own = isPlatformAdmin(principal) ? null : principal.clientId;
  if (own && (!requested || requested === own)) {
    const [client, result] = await Promise.all([resolveClient(deps, principal, requested), read(own)]);
    return { client, result };
  }
  const client = await resolveClient(deps, principal, requested);
  return { client, result: await read(client.clientId) };
}

/** The client id an instance lookup is scoped to; undefined lets the platform admin see any. */
export const scopeOf = (principal: Principal): string | undefined =>
  isPlatformAdmin(principal) ? undefined : principal.clientId!;

import { ProviderError } from '../../domain/errors.ts';
import type { NovaAddresses } from './addresses.ts';
import { isRecord } from './http.ts';
import type { KeystoneSession } from './keystone.ts';
import { collectPages } from './pages.ts';

/**
 * Nova (compute API v2.1), spoken at microversion 2.47 (OpenStack Pike, 2017, or later): the
 * lowest version where a server embeds its flavor (name, vcpus, ram) instead of a bare link, and
 * above 2.37 where `networks` became required on create ("auto" when none is named). The
 * version is sent in both headers Nova has understood over time.
 */
export const COMPUTE_MICROVERSION = '2.47';
export const COMPUTE_HEADERS: Readonly<Record<string, string>> = {
  'OpenStack-API-Version': `compute ${COMPUTE_MICROVERSION}`,
  'X-OpenStack-Nova-API-Version': COMPUTE_MICROVERSION,
};

export interface NovaFault {
  code?: number;
  message?: string;
  created?: string;
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  metadata?: Record<string, string>;
  addresses?: NovaAddresses;
  accessIPv4?: string;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:vm_state'?: string;
  'OS-EXT-AZ:availability_zone'?: string;
  fault?: NovaFault;
  flavor?: { original_name?: string; id?: string; vcpus?: number; ram?: number };
  image?: { id?: string } | '';
  key_name?: string | null;
  created?: string;
  updated?: string;
}

export interface NovaFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  'OS-FLV-EXT-DATA:ephemeral'?: number;
  swap?: number | '';
  'os-flavor-access:is_public'?: boolean;
  /** Present from microversion 2.61; fetched separately below that. */
  extra_specs?: Record<string, string>;
}

export interface NovaKeyPair {
  name: string;
  fingerprint?: string;
  type?: string;
}

/** The server-create body Hangar sends (the subset of Nova's schema it uses). */
export interface NovaServerCreate {
  name: string;
  flavorRef: string;
  imageRef?: string;
  networks: Array<{ uuid: string }> | 'auto';
  key_name?: string;
  security_groups?: Array<{ name: string }>;
  user_data?: string;
  config_drive?: boolean;
  metadata: Record<string, string>;
  block_device_mapping_v2?: Array<Record<string, unknown>>;
}

const request = { headers: COMPUTE_HEADERS };

/** One server, or null when Nova does not know it (404). */
export async function getServer(session: KeystoneSession, id: string): Promise<NovaServer | null> {
  const response = await session.requestOrNull('compute', {
    method: 'GET',
    path: `/servers/${encodeURIComponent(id)}`,
    ...request,
  });
  if (!response) return null;
  const server = isRecord(response.json) ? response.json.server : undefined;
  if (!isRecord(server)) throw new ProviderError('OpenStack compute (Nova) answered GET /servers/{id} without a server', 'transient');
  return server as unknown as NovaServer;
}

/**
 * GET /servers/detail with Nova's filters (`name` is a regular expression, `changes-since` an
 * ISO time that also returns deleted servers), every page.
 */
export async function listServers(
  session: KeystoneSession,
  query: { name?: string; 'changes-since'?: string; limit?: number } = {},
): Promise<NovaServer[]> {
  return collectPages<NovaServer>(session, 'compute', { method: 'GET', path: '/servers/detail', query, ...request }, 'servers');
}

/** The `name` filter matching exactly this name (Nova matches it as a regular expression). */
export function exactNameFilter(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

export async function createServer(session: KeystoneSession, server: NovaServerCreate): Promise<string> {
  const response = await session.request('compute', { method: 'POST', path: '/servers', body: { server }, ...request });
  const created = isRecord(response.json) && isRecord(response.json.server) ? response.json.server : undefined;
  if (!created || typeof created.id !== 'string') {
    throw new ProviderError('OpenStack compute (Nova) accepted the server but answered without its id', 'transient');
  }
  return created.id;
}

/** POST /servers/{id}/action; the body names the action: {"os-start": null}, {"reboot": {…}}. */
export async function serverAction(session: KeystoneSession, id: string, action: Record<string, unknown>): Promise<void> {
  await session.request('compute', {
    method: 'POST',
    path: `/servers/${encodeURIComponent(id)}/action`,
    body: action,
    ...request,
  });
}

/** DELETE /servers/{id}; false when the server was already gone. */
export async function deleteServer(session: KeystoneSession, id: string): Promise<boolean> {
  const response = await session.requestOrNull('compute', {
    method: 'DELETE',
    path: `/servers/${encodeURIComponent(id)}`,
    ...request,
  });
  return response !== null;
}

export async function listFlavors(session: KeystoneSession): Promise<NovaFlavor[]> {
  return collectPages<NovaFlavor>(session, 'compute', { method: 'GET', path: '/flavors/detail', ...request }, 'flavors');
}

export async function flavorExtraSpecs(session: KeystoneSession, flavorId: string): Promise<Record<string, string>> {
  const response = await session.request('compute', {
    method: 'GET',
    path: `/flavors/${encodeURIComponent(flavorId)}/os-extra_specs`,
    ...request,
  });
  const specs = isRecord(response.json) ? response.json.extra_specs : undefined;
  if (!isRecord(specs)) return {};
  return Object.fromEntries(Object.entries(specs).map(([key, value]) => [key, String(value)]));
}

/** Key pairs: `{"keypairs": [{"keypair": {…}}]}`, paged with keypairs_links from 2.35. */
export async function listKeyPairs(session: KeystoneSession): Promise<NovaKeyPair[]> {
  const wrapped = await collectPages<{ keypair?: NovaKeyPair }>(
    session,
    'compute',
    { method: 'GET', path: '/os-keypairs', ...request },
    'keypairs',
  );
  return wrapped.flatMap((entry) => (entry.keypair ? [entry.keypair] : []));
}

/**
 * A flavor named by id or by name: Nova flavor ids are free strings ("1", "m1.small", a UUID),
 * so the id is tried first, then an exact name. A name two flavors share is refused.
 */
export async function resolveFlavor(session: KeystoneSession, nameOrId: string, region: string): Promise<NovaFlavor> {
  const flavors = await listFlavors(session);
  const byId = flavors.find((flavor) => flavor.id === nameOrId);
  if (byId) return byId;
  const byName = flavors.filter((flavor) => flavor.name === nameOrId);
  if (byName.length === 1 && byName[0]) return byName[0];
  if (byName.length > 1) {
    throw new ProviderError(
      `Flavor name '${nameOrId}' is ambiguous in OpenStack region ${region} (ids ${byName.map((f) => f.id).join(', ')}); name it by id`,
      'invalid-request',
    );
  }
  throw new ProviderError(
    `Flavor '${nameOrId}' does not exist in OpenStack region ${region}; available: ${sample(flavors.map((f) => f.name))}`,
    'invalid-request',
  );
}

export function sample(names: string[], max = 10): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

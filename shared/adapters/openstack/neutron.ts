import { ProviderError } from '../../domain/errors.ts';
import type { KeystoneSession } from './keystone.ts';
import { sample } from './nova.ts';
import { collectPages } from './pages.ts';

/**
 * Neutron networking API v2.0. A `limit` is always sent: Neutron adds `<collection>_links`
 * only to limited pages, and an unlimited list of a large project is one huge answer.
 */
export interface NeutronNetwork {
  id: string;
  name: string;
  status?: string;
  shared?: boolean;
  subnets?: string[];
  mtu?: number;
  'router:external'?: boolean;
  admin_state_up?: boolean;
}

export interface NeutronSubnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  ip_version: number;
  gateway_ip?: string | null;
  enable_dhcp?: boolean;
}

export interface NeutronSecurityGroup {
  id: string;
  name: string;
  description?: string;
  security_group_rules?: unknown[];
}

const PAGE_SIZE = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Filters = Record<string, string | undefined>;

function list<T>(session: KeystoneSession, collection: string, resource: string, filters: Filters = {}): Promise<T[]> {
  return collectPages<T>(
    session,
    'network',
    { method: 'GET', path: `/v2.0/${resource}`, query: { limit: PAGE_SIZE, ...filters } },
    collection,
  );
}

export const listNetworks = (session: KeystoneSession, filters?: Filters) =>
  list<NeutronNetwork>(session, 'networks', 'networks', filters);
export const listSubnets = (session: KeystoneSession, filters?: Filters) =>
  list<NeutronSubnet>(session, 'subnets', 'subnets', filters);
export const listSecurityGroups = (session: KeystoneSession, filters?: Filters) =>
  list<NeutronSecurityGroup>(session, 'security_groups', 'security-groups', filters);

/** A network named by id or exact name; a name two networks share is refused. */
export async function resolveNetwork(session: KeystoneSession, nameOrId: string, region: string): Promise<NeutronNetwork> {
  if (UUID.test(nameOrId)) {
    const [byId] = await listNetworks(session, { id: nameOrId });
    if (byId) return byId;
  }
  const named = await listNetworks(session, { name: nameOrId });
  if (named.length === 1 && named[0]) return named[0];
  if (named.length > 1) {
    throw new ProviderError(
      `Network name '${nameOrId}' is ambiguous in OpenStack region ${region} (ids ${named.map((n) => n.id).join(', ')}); name it by id`,
      'invalid-request',
    );
  }
  const available = await listNetworks(session);
  throw new ProviderError(
    `Network '${nameOrId}' does not exist in OpenStack region ${region}; available: ${sample(available.map((n) => n.name || n.id))}`,
    'invalid-request',
  );
}

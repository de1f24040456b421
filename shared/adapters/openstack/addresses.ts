/**
 * A server's IPs from Nova's `addresses` map: `{ "<network name>": [{ "addr", "version",
 * "OS-EXT-IPS:type": "fixed" | "floating" }] }`, networks in the order Nova lists them.
 *
 * privateIp: the first fixed IPv4 address, else the first fixed IPv6 address.
 * publicIp:  the first floating IPv4, else floating IPv6, else `accessIPv4` when set, else the
 *            first fixed IPv4 that is globally routable (provider networks hand out public
 *            addresses directly, without floating IPs).
 * An address without OS-EXT-IPS:type (extension absent) counts as fixed.
 */
export interface NovaAddress {
  addr: string;
  version?: number;
  'OS-EXT-IPS:type'?: string;
}

export type NovaAddresses = Record<string, NovaAddress[]>;

export interface MachineIps {
  privateIp?: string;
  publicIp?: string;
}

export function ipsOf(addresses: NovaAddresses | undefined, accessIPv4?: string): MachineIps {
  const all = Object.values(addresses ?? {}).flat().filter((address) => typeof address?.addr === 'string');
  const isV4 = (address: NovaAddress) => (address.version ?? (address.addr.includes(':') ? 6 : 4)) === 4;
  const fixed = all.filter((address) => (address['OS-EXT-IPS:type'] ?? 'fixed') === 'fixed');
  const floating = all.filter((address) => address['OS-EXT-IPS:type'] === 'floating');

  const privateIp = (fixed.find(isV4) ?? fixed[0])?.addr;
  const publicIp =
    (floating.find(isV4) ?? floating[0])?.addr ??
    (accessIPv4 ? accessIPv4 : undefined) ??
    fixed.find((address) => isV4(address) && isGloballyRoutableV4(address.addr))?.addr;

  return { ...(privateIp ? { privateIp } : {}), ...(publicIp ? { publicIp } : {}) };
}

/** False for RFC 1918, shared (100.64/10), loopback, link-local and other reserved IPv4 ranges. */
export function isGloballyRoutableV4(addr: string): boolean {
  const octets = addr.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) return false;
  const [a = 0, b = 0] = octets;
  if (a === 10 || a === 127 || a === 0 || a >= 224) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  return true;
}

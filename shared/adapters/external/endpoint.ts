import { isIP } from 'node:net';
import { ValidationError } from '../../domain/errors.ts';

/**
 * An EXTERNAL endpoint, parsed once: what Hangar connects to and how it checks it.
 *
 * - A URL (`http(s)://host[:port][/path]`) is checked with an HTTP GET of the URL itself, or of
 *   `healthPath` on the same origin when one is given.
 * - `host:port` is checked with a TCP connect, or with an HTTP GET of `http://host:port<healthPath>`
 *   when a `healthPath` is given (a health path only means something over HTTP).
 */
export interface ParsedEndpoint {
  /** The endpoint as the person gave it. */
  endpoint: string;
  /** The host without IPv6 brackets: what a socket connects to. */
  host: string;
  port: number;
  check: 'http' | 'tcp';
  /** The URL the HTTP check fetches, or `tcp://host:port` for a TCP check. */
  healthUrl: string;
  /** The host when it is a literal IP address (4 or 6), else undefined. */
  ip?: string;
}

const ENDPOINT_PATH = 'config.endpoint';
const HEALTH_PATH = 'config.healthPath';
const REQUIRED = 'config.endpoint is required for EXTERNAL instances: a URL or host:port';
const EXAMPLES = 'e.g. https://api.example.com/health or db.example.com:5432';

// host:port, with the host a DNS name, an IPv4 address or a bracketed IPv6 address.
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;
const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function invalid(message: string, path = ENDPOINT_PATH): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

function isHostName(host: string): boolean {
  return host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label));
}

function portOf(text: string, endpoint: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`config.endpoint '${endpoint}' has port ${text}; a port is 1-65535`);
  }
  return port;
}

/**
 * The path part of `healthPath` (path and query), refusing anything that is not a plain
 * absolute path: `//other-host/…` or a full URL would send the check somewhere else.
 */
function healthPathOf(healthPath: string): string {
  const message = `config.healthPath '${healthPath}' must be a path starting with / (e.g. /health)`;
  if (!healthPath.startsWith('/') || healthPath.startsWith('//') || /[\s\\]/.test(healthPath)) {
    throw invalid(message, HEALTH_PATH);
  }
  const placeholder = 'http://health-path.invalid';
  let resolved: URL;
  try {
    resolved = new URL(healthPath, placeholder);
  } catch {
    throw invalid(message, HEALTH_PATH);
  }
  if (resolved.origin !== placeholder) throw invalid(message, HEALTH_PATH);
  return `${resolved.pathname}${resolved.search}`;
}

function parseUrl(endpoint: string, healthPath: string | undefined): ParsedEndpoint {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalid(`config.endpoint '${endpoint}' is not a valid URL or host:port (${EXAMPLES})`);
  }
  if (url.username || url.password) {
    // Never echo the endpoint here: it holds a secret.
    throw invalid('config.endpoint must not contain credentials (user:password@); EXTERNAL endpoints are checked without them');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`config.endpoint '${endpoint}' uses ${url.protocol.replace(/:$/, '')}; only http and https URLs (or host:port) are supported`);
  }
  if (!url.hostname) throw invalid(`config.endpoint '${endpoint}' has no host (${EXAMPLES})`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  url.hash = '';
  const healthUrl = healthPath === undefined ? url.href : `${url.origin}${healthPathOf(healthPath)}`;
  return { endpoint, host, port, check: 'http', healthUrl, ...(isIP(host) ? { ip: host } : {}) };
}

function parseHostPort(endpoint: string, healthPath: string | undefined): ParsedEndpoint {
  const match = HOST_PORT.exec(endpoint);
  if (!match) throw invalid(`config.endpoint '${endpoint}' is not a valid URL or host:port (${EXAMPLES})`);
  const [, rawHost = '', rawPort = ''] = match;
  const bracketed = rawHost.startsWith('[');
  const host = bracketed ? rawHost.slice(1, -1) : rawHost;
  if (bracketed ? isIP(host) !== 6 : !(isIP(host) === 4 || (isHostName(host) && !/^[\d.]+$/.test(host)))) {
    throw invalid(`config.endpoint '${endpoint}' does not name a valid host (${EXAMPLES})`);
  }
  const port = portOf(rawPort, endpoint);
  const authority = `${bracketed ? `[${host}]` : host}:${port}`;
  const healthUrl = healthPath === undefined ? `tcp://${authority}` : `http://${authority}${healthPathOf(healthPath)}`;
  return {
    endpoint,
    host,
    port,
    check: healthPath === undefined ? 'tcp' : 'http',
    healthUrl,
    ...(isIP(host) ? { ip: host } : {}),
  };
}

/**
 * Parse and check an EXTERNAL endpoint. Throws ValidationError (paths `config.endpoint` /
 * `config.healthPath`) saying what is wrong; never echoes credentials.
 */
export function parseEndpoint(endpoint: string | undefined, healthPath?: string): ParsedEndpoint {
  if (endpoint === undefined || endpoint.trim() === '') throw invalid(REQUIRED);
  if (endpoint.length > 2048) throw invalid('config.endpoint is longer than 2048 characters');
  if (/\s/.test(endpoint)) throw invalid('config.endpoint must not contain spaces or line breaks');
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(endpoint) ? parseUrl(endpoint, healthPath) : parseHostPort(endpoint, healthPath);
}

// Addresses that are only reachable from inside a network: reported as privateIp.
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [0x0a000000, 8], // 10/8
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
];

/** True for loopback, private, link-local and unique-local addresses. */
export function isPrivateIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const value = ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
    return PRIVATE_V4.some(([base, bits]) => Math.floor(value / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)));
  }
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return isPrivateIp(mapped[1]);
  return lower === '::1' || /^f[cd][0-9a-f]{2}:/.test(lower) || /^fe[89ab][0-9a-f]:/.test(lower);
}

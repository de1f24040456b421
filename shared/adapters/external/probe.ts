import { connect } from 'node:net';
import { parseEndpoint, type ParsedEndpoint } from './endpoint.ts';

export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** What one connectivity check found. `reason` says, in words, why it is not reachable. */
export interface ProbeResult {
  reachable: boolean;
  check: 'http' | 'tcp';
  /** What was checked: the health URL, or `tcp://host:port`. */
  target: string;
  /** The HTTP status, for HTTP checks that got an answer. */
  statusCode?: number;
  latencyMs: number;
  checkedAt: string;
  reason?: string;
}

export interface ProbeOptions {
  /** The fetch to use for HTTP checks (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

const CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the endpoint',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS certificate issuer is unknown',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

/** The most telling words for a network failure: fetch wraps the socket error in `cause`. */
export function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CODES[code]) return `${CODES[code]} (${code})`;
    const inner = (current as { cause?: unknown; errors?: unknown }).cause ?? (current as { errors?: unknown[] }).errors?.[0];
    if (!inner) break;
    current = inner;
  }
  const code = (current as { code?: unknown } | undefined)?.code;
  const message = current instanceof Error ? current.message : String(current);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

function result(parsed: ParsedEndpoint, started: number, fields: Partial<ProbeResult> & { reachable: boolean }): ProbeResult {
  return {
    check: parsed.check,
    target: parsed.healthUrl,
    latencyMs: Math.round(performance.now() - started),
    checkedAt: new Date().toISOString(),
    ...fields,
  };
}

function probeTcp(parsed: ParsedEndpoint, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.host, port: parsed.port });
    const finish = (fields: { reachable: boolean; reason?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result(parsed, started, fields));
    };
    const timer = setTimeout(() => finish({ reachable: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => finish({ reachable: true }));
    socket.once('error', (error) => finish({ reachable: false, reason: describeNetworkError(error) }));
  });
}

async function probeHttp(parsed: ParsedEndpoint, timeoutMs: number, fetchImpl: typeof fetch): Promise<ProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    // Redirects are not followed: a 3xx proves the endpoint answers, and following one could
    // send the check to a host nobody registered.
    const answered = fetchImpl(parsed.healthUrl, {
      method: 'GET',
      redirect: 'manual',
      signal: controller.signal,
      headers: { 'user-agent': 'hangar-health-check', accept: '*/*' },
    });
    answered.catch(() => undefined); // settled after a timeout: nobody waits for it any more
    const response = await Promise.race([answered, timedOut]);
    if (response === 'timeout') return result(parsed, started, { reachable: false, reason: `no answer within ${timeoutMs} ms` });
    await response.body?.cancel().catch(() => undefined);
    const statusCode = response.status;
    if (statusCode >= 200 && statusCode < 400) return result(parsed, started, { reachable: true, statusCode });
    const text = response.statusText ? ` ${response.statusText}` : '';
    return result(parsed, started, { reachable: false, statusCode, reason: `GET ${parsed.healthUrl} answered ${statusCode}${text}` });
  } catch (error) {
    const reason = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
    return result(parsed, started, { reachable: false, reason });
  } finally {
    clearTimeout(timer);
  }
}

/** Check an already parsed endpoint. Never throws: an unreachable endpoint is a result. */
export function probeParsed(parsed: ParsedEndpoint, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS, options: ProbeOptions = {}): Promise<ProbeResult> {
  return parsed.check === 'tcp' ? probeTcp(parsed, timeoutMs) : probeHttp(parsed, timeoutMs, options.fetch ?? globalThis.fetch);
}

/**
 * Is the EXTERNAL endpoint reachable now? An HTTP GET of the health URL answering 2xx or 3xx,
 * or a TCP connect for `host:port` without a health path, within `timeoutMs`. Resolves with
 * what it found (never rejects for an unreachable endpoint); rejects with ValidationError only when
 * `endpoint`/`healthPath` cannot be parsed, which registration already refuses.
 */
export async function probeEndpoint(
  endpoint: string,
  healthPath: string | undefined,
  timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  return probeParsed(parseEndpoint(endpoint, healthPath), timeoutMs, options);
}

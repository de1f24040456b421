import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ValidationError } from '../../domain/errors.ts';
import type { WebhookRequest, WebhookResponse, WebhookTransport } from '../../ports/webhook-transport.ts';
import { type AddressPolicy, forbiddenReason } from './address-guard.ts';

/** Resolves a host name to every address it has (the system resolver, as connections use). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** Bodies we read from receivers: enough for an error line in the log, never more. */
const MAX_RESPONSE_BYTES = 4096;

export interface HttpWebhookTransportOptions extends AddressPolicy {
  resolve?: Resolve;
}

class TargetRefused extends Error {}

/**
 * POSTs signed webhooks with node:http(s). Before a request, the host is resolved and every
 * address it resolves to is checked; the connection then goes to the very address that was
 * checked (a custom `lookup`), so a DNS answer that changes between the check and the connect
 * (rebinding) cannot reach a private address. Redirects are not followed: a 3xx is a failure.
 */
export class HttpWebhookTransport implements WebhookTransport {
  private readonly resolve: Resolve;

  constructor(private readonly options: HttpWebhookTransportOptions) {
    this.resolve = options.resolve ?? systemResolve;
  }

  /** Deployed stages: HANGAR_WEBHOOK_ALLOW_LOOPBACK is unset, so loopback is refused like any private range. */
  static fromEnvironment(): HttpWebhookTransport {
    return new HttpWebhookTransport({ allowLoopback: process.env.HANGAR_WEBHOOK_ALLOW_LOOPBACK === 'true' });
  }

  async checkTarget(url: string): Promise<void> {
    const target = parseTarget(url);
    try {
      await this.pinnedAddress(target.hostname);
    } catch (error) {
      throw new ValidationError(`Webhook url is not allowed: ${(error as Error).message}`, [{ path: 'url', message: (error as Error).message }], 'WEBHOOK_TARGET_REFUSED');
    }
  }

  async post(request: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let target: URL;
    let address: LookupAddress;
    try {
      target = parseTarget(request.url);
      address = await this.pinnedAddress(target.hostname);
    } catch (error) {
      return { error: `Refused: ${(error as Error).message}`, durationMs: elapsed() };
    }
    // The connection may only go where the check said it may: the lookup answers the checked address.
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, [address]);
      else callback(null, address.address, address.family);
    };
    const options: RequestOptions = {
      method: 'POST',
      headers: { ...request.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(request.body)), 'user-agent': 'Hangar-Webhooks/1' },
      lookup,
      timeout: request.timeoutMs,
    };
    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      const settle = (response: WebhookResponse) => {
        if (!settled) {
          settled = true;
          clearTimeout(deadline);
          resolve(response);
        }
      };
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(target, options, (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => settle({ statusCode: res.statusCode ?? 0, durationMs: elapsed() }));
        res.on('error', () => settle({ statusCode: res.statusCode ?? 0, durationMs: elapsed() }));
      });
      // One deadline for the whole exchange (the socket timeout only covers idleness).
      const deadline = setTimeout(() => {
        req.destroy(new Error(`No answer within ${request.timeoutMs / 1000} s`));
      }, request.timeoutMs);
      req.on('timeout', () => req.destroy(new Error(`No answer within ${request.timeoutMs / 1000} s`)));
      req.on('error', (error) => settle({ error: describe(error), durationMs: elapsed() }));
      req.end(request.body);
    });
  }

  /** The first address the host resolves to, after checking that none of them is forbidden. */
  private async pinnedAddress(hostname: string): Promise<LookupAddress> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    const addresses = family ? [{ address: host, family }] : await this.resolve(host).catch((error: NodeJS.ErrnoException) => {
      throw new TargetRefused(`cannot resolve ${host} (${error.code ?? error.message})`);
    });
    if (addresses.length === 0) throw new TargetRefused(`${host} has no address`);
    // Every address, not just the first: a name that also points inside is refused outright.
    for (const { address } of addresses) {
      const reason = forbiddenReason(address, this.options);
      if (reason) throw new TargetRefused(`${host} resolves to ${reason.replace(`${address} is`, `${address}, which is`)}`);
    }
    return addresses[0]!;
  }
}

/** http(s) URLs only, without credentials; anything else is a 400 at create time. */
export function parseTarget(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new ValidationError(`Webhook url '${url}' is not a URL`, [{ path: 'url', message: 'not a URL' }]);
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new ValidationError('Webhook url must use https (or http)', [{ path: 'url', message: `scheme ${target.protocol} is not allowed` }]);
  }
  if (target.username || target.password) {
    throw new ValidationError('Webhook url must not carry credentials; receivers verify the signature instead', [{ path: 'url', message: 'credentials in the URL' }]);
  }
  return target;
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.code === 'ECONNREFUSED') return 'Connection refused';
  if (error.code === 'ECONNRESET') return 'Connection reset by the receiver';
  return error.message || String(error.code);
}

import { ProviderError, type ProviderErrorKind } from '../../domain/errors.ts';

/**
 * JSON over HTTP for the OpenStack services, and the one place where an HTTP answer becomes a
 * ProviderError. Knows nothing about tokens: keystone.ts adds X-Auth-Token and handles 401.
 *
 * Status → ProviderError kind:
 *   400, 409, 422        invalid-request (409 is Nova's conflictingRequest: the server is in the
 *                        wrong state for the action; its message is kept verbatim)
 *   401                  auth (keystone.ts renews the token once before it lets a 401 through)
 *   403                  auth, or capacity when the message says a quota is exceeded
 *   404                  not-found
 *   413 / 429            throttled when rate-limited (waited once, see send()); a 413 without
 *                        Retry-After is Nova's old "quota exceeded" answer → capacity
 *   5xx, network, timeout transient (workflows retry these with backoff; send() does not)
 */

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON when present. */
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The parsed JSON body; undefined for an empty or non-JSON body. */
  json: unknown;
  text: string;
}

export interface HttpTransportOptions {
  fetch: typeof fetch;
  clock: () => Date;
  /** The longest Retry-After we wait for inside one call (default 10 s); longer → throttled at once. */
  maxRetryAfterMs?: number;
  /** Timeout of one HTTP exchange (default 30 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 30_000;
/** A 429 without Retry-After still deserves one short pause before the retry. */
const DEFAULT_THROTTLE_WAIT_MS = 1000;
const MAX_MESSAGE_LENGTH = 400;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** No HTTP answer at all: refused, reset, DNS, TLS or timeout. Always 'transient'. */
export class UnreachableError extends ProviderError {
  constructor(
    what: string,
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Cannot reach ${what} at ${url}: ${reason}`, 'transient');
  }
}

export class HttpTransport {
  private readonly fetchFn: typeof fetch;
  private readonly clock: () => Date;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: HttpTransportOptions) {
    this.fetchFn = options.fetch;
    this.clock = options.clock;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * One exchange, answered whatever its status, except that a rate-limited answer (429, or 413
   * with Retry-After) is waited out once — Retry-After seconds or date, at most maxRetryAfterMs —
   * and the request sent again; rate-limited twice, or asked to wait longer, is 'throttled'.
   * Network failures and timeouts throw 'transient' naming the URL; `what` names the service.
   */
  async send(request: HttpRequest, what: string): Promise<HttpResponse> {
    const first = await this.exchange(request, what);
    if (!isRateLimited(first)) return first;
    const waitMs = retryAfterMs(first.headers.get('retry-after'), this.clock()) ?? DEFAULT_THROTTLE_WAIT_MS;
    if (waitMs > this.maxRetryAfterMs) throw throttledError(first, what, waitMs);
    await this.sleep(waitMs);
    const second = await this.exchange(request, what);
    if (isRateLimited(second)) {
      throw throttledError(second, what, retryAfterMs(second.headers.get('retry-after'), this.clock()));
    }
    return second;
  }

  private async exchange(request: HttpRequest, what: string): Promise<HttpResponse> {
    // One connection per exchange: Keystone and Nova commonly run under uwsgi's http-socket,
    // which drops a kept-alive connection after its answer without saying so, and fetch then
    // fails the next request on it with ECONNRESET. OpenStack calls are few and slow (0.1–1 s),
    // so a fresh connection costs little.
    const headers: Record<string, string> = { Accept: 'application/json', Connection: 'close', ...request.headers };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchFn(request.url, {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(what, withoutQuery(request.url), networkCause(error));
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new UnreachableError(what, withoutQuery(request.url), `the answer broke off: ${networkCause(error)}`);
    }
    return { status: response.status, statusText: response.statusText, headers: response.headers, json: parseJson(text), text };
  }
}

/** Throw the ProviderError an unsuccessful answer stands for; return the answer otherwise. */
export function ensureOk(response: HttpResponse, what: string): HttpResponse {
  if (response.status < 400) return response;
  throw errorFromResponse(response, what);
}

/**
 * An OpenStack service answered with an error status. `httpStatus` is what OpenStack answered
 * (409 vs 400…); `status` stays the 502 Hangar itself answers with.
 */
export class OpenStackApiError extends ProviderError {
  constructor(
    message: string,
    kind: ProviderErrorKind,
    readonly httpStatus: number,
  ) {
    super(message, kind);
  }
}

export function errorFromResponse(response: HttpResponse, what: string): OpenStackApiError {
  const message = openStackErrorMessage(response);
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const kind = errorKindFor(response.status, message, response.headers.has('retry-after'));
  // A 4xx message from Nova/Neutron/Glance is written for people; keep it first.
  if (response.status < 500 && message) return new OpenStackApiError(`${message} (${what}: ${status})`, kind, response.status);
  return new OpenStackApiError(`${what} failed: ${status}${message ? `: ${message}` : ''}`, kind, response.status);
}

export function errorKindFor(status: number, message: string, hasRetryAfter: boolean): ProviderErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return /quota/i.test(message) ? 'capacity' : 'auth';
  if (status === 404) return 'not-found';
  if (status === 429 || (status === 413 && hasRetryAfter)) return 'throttled';
  if (status === 413) return 'capacity';
  if (status >= 500) return 'transient';
  return 'invalid-request';
}

/**
 * The human message inside an OpenStack error body. The services disagree on the shape:
 *   Nova:      {"conflictingRequest": {"code": 409, "message": "…"}} (any single wrapper key:
 *              itemNotFound, badRequest, overLimit, forbidden, computeFault…)
 *   Keystone and keystonemiddleware: {"error": {"code": 401, "title": "Unauthorized", "message": "…"}}
 *   Neutron:   {"NeutronError": {"type": "…", "message": "…", "detail": ""}}
 *   Placement-style: {"errors": [{"title": "…", "detail": "…"}]}
 *   Glance:    often text/html ("<h1>404 Not Found</h1> No image found with ID …") or {"message": "…"}
 */
export function openStackErrorMessage(response: Pick<HttpResponse, 'json' | 'text'>): string {
  const fromJson = messageFromJson(response.json);
  if (fromJson) return clip(fromJson);
  if (response.json !== undefined) return '';
  return clip(plainText(response.text));
}

function messageFromJson(body: unknown): string | undefined {
  if (!isRecord(body)) return typeof body === 'string' ? body : undefined;
  if (typeof body.message === 'string') return body.message;
  if (Array.isArray(body.errors) && isRecord(body.errors[0])) {
    const first = body.errors[0];
    return stringField(first, 'detail') ?? stringField(first, 'title');
  }
  for (const value of Object.values(body)) {
    if (typeof value === 'string' && Object.keys(body).length === 1) return value;
    if (isRecord(value)) {
      const message = stringField(value, 'message') ?? stringField(value, 'title');
      if (message) return message;
    }
  }
  return undefined;
}

function plainText(text: string): string {
  return text
    .replace(/<title>[\s\S]*?<\/title>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Retry-After in milliseconds: delta-seconds ("1") or an HTTP date; undefined when absent or
 * unreadable. A date in the past means "now" (0).
 */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

function isRateLimited(response: HttpResponse): boolean {
  return response.status === 429 || (response.status === 413 && response.headers.has('retry-after'));
}

function throttledError(response: HttpResponse, what: string, waitMs: number | undefined): ProviderError {
  const message = openStackErrorMessage(response);
  const after = waitMs === undefined ? '' : `; retry after ${Math.ceil(waitMs / 1000)} s`;
  return new ProviderError(
    `${what} is rate-limiting requests (${response.status}${message ? `: ${message}` : ''})${after}`,
    'throttled',
  );
}

function networkCause(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const cause = (error as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: string }).code;
      return code ? `${code} (${cause.message})` : cause.message;
    }
    return error.message;
  }
  return String(error);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Query strings may carry names a person typed; messages show only where we went. */
export function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_MESSAGE_LENGTH ? `${trimmed.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : trimmed;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

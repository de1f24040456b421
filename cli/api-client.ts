import { randomUUID } from 'node:crypto';
import { ApiError, CliError } from './errors.ts';
import type { ErrorDetailView } from './types.ts';

/**
 * The CLI's only door to Hangar: JSON over HTTP with the global fetch.
 *
 * - `Authorization: Bearer <key>` on every request when a key is configured.
 * - Requests that create or act carry an `Idempotency-Key` (a fresh UUID per request, made once
 *   before the first attempt), so the retries below can never create or act twice.
 * - Network failures other than "nothing is listening", `503`/`504` answers and the server's
 *   "a request with this Idempotency-Key is still in progress" are retried a couple of times
 *   with a short backoff.
 * - The error envelope `{success: false, error, code, details}` becomes an `ApiError`; anything
 *   that is not JSON becomes a `CliError` naming the URL and status.
 */
export interface ApiClientOptions {
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Extra attempts after the first (default 2). */
  retries?: number;
  /** Backoff before retry n is n × this (default 250 ms). */
  retryDelayMs?: number;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  newIdempotencyKey?: () => string;
}

export type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send an Idempotency-Key (default: true for POST and DELETE). */
  idempotent?: boolean;
}

const RETRYABLE_STATUS = new Set([503, 504]);
const FATAL_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_INVALID_URL']);

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly newIdempotencyKey: () => string;

  constructor(options: ApiClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new CliError(`Invalid Hangar URL '${options.baseUrl}'; expected something like http://localhost:3000`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`Invalid Hangar URL '${options.baseUrl}'; it must start with http:// or https://`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey || undefined;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.newIdempotencyKey = options.newIdempotencyKey ?? randomUUID;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  delete<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  url(path: string, query: Query = {}): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotent ?? (method === 'POST' || method === 'DELETE')) {
      headers['Idempotency-Key'] = this.newIdempotencyKey();
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      let text: string;
      try {
        response = await this.fetchImpl(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
        text = await response.text();
      } catch (error) {
        const code = networkErrorCode(error);
        if (attempt < this.retries && !(code && FATAL_NETWORK_CODES.has(code))) {
          await this.sleep(this.retryDelayMs * (attempt + 1));
          continue;
        }
        throw this.networkError(error, code);
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < this.retries) {
        await this.sleep(this.retryDelayMs * (attempt + 1));
        continue;
      }
      try {
        return this.parse<T>(method, url, response, text);
      } catch (error) {
        // A retry that overtook its first attempt, which the server is still working on.
        if (error instanceof ApiError && error.code === 'IDEMPOTENCY_IN_PROGRESS' && attempt < this.retries) {
          await this.sleep(this.retryDelayMs * (attempt + 1));
          continue;
        }
        throw error;
      }
    }
  }

  private parse<T>(method: string, url: string, response: Response, text: string): T {
    let payload: unknown;
    try {
      payload = text === '' ? {} : JSON.parse(text);
    } catch {
      const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      throw new CliError(
        `Unexpected response from ${method} ${url}: HTTP ${response.status} (not JSON)`,
        snippet ? [snippet] : [],
      );
    }
    const envelope = isRecord(payload) ? payload : {};
    if (!response.ok || envelope.success === false) {
      const code = typeof envelope.code === 'string' ? envelope.code : `HTTP_${response.status}`;
      const message =
        typeof envelope.error === 'string' ? envelope.error : response.statusText || `HTTP ${response.status}`;
      const details = Array.isArray(envelope.details) ? envelope.details.map(formatDetail) : [];
      if (typeof envelope.requestId === 'string') details.push(`request id: ${envelope.requestId}`);
      if (response.status === 401 && !this.apiKey) {
        details.push('No API key was given: pass --api-key or set HANGAR_API_KEY (`npm start` prints the admin key).');
      }
      if (/clientId is required/i.test(message)) {
        // The platform admin's key belongs to no client: the API says so in its own words.
        details.push('Hint: with the platform admin key, name the client this acts for: --client <client id or name>.');
      }
      throw new ApiError(response.status, code, message, details);
    }
    return payload as T;
  }

  private networkError(error: unknown, code: string | undefined): CliError {
    switch (code) {
      case 'ECONNREFUSED':
        return new CliError(`Cannot connect to Hangar at ${this.baseUrl} (connection refused).`, [
          'Is the API running? Start the local runtime with `npm start`,',
          'or point --url (or HANGAR_URL) at a running Hangar.',
        ]);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new CliError(`Cannot resolve the host of ${this.baseUrl} (${code}).`, [
          'Check --url (or HANGAR_URL).',
        ]);
      case 'TimeoutError':
        return new CliError(`Hangar at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000}s.`);
      default:
        return new CliError(`Cannot reach Hangar at ${this.baseUrl}: ${describeError(error)}`);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (isRecord(detail)) {
    const { path, message } = detail as Partial<ErrorDetailView>;
    if (typeof message === 'string') return path ? `${path}: ${message}` : message;
  }
  return JSON.stringify(detail);
}

/** The first system error code in an error, its `cause` chain or an AggregateError's members. */
export function networkErrorCode(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) && !(error instanceof Error)) return undefined;
  if (depth > 5) return undefined;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  if (e.name === 'TimeoutError') return 'TimeoutError';
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  for (const inner of Array.isArray(e.errors) ? e.errors : []) {
    const code = networkErrorCode(inner, depth + 1);
    if (code) return code;
  }
  if (e.cause !== undefined) return networkErrorCode(e.cause, depth + 1);
  return typeof e.code === 'string' ? e.code : undefined;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

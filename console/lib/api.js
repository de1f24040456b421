// The HTTP API as the console uses it: the key from the session, JSON in and out, errors as ApiError.
import { readKey } from './session.js';

let apiBase = '';
let unauthorized = () => {};

export function configureApi(options) {
  apiBase = options.apiBase ?? '';
  unauthorized = options.onUnauthorized ?? unauthorized;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? body?.message ?? `The API answered ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

/** A route this deployment does not have (yet): the local gateway's 404/405, or API Gateway's bare 404. */
export const isUnavailable = (error) =>
  error instanceof ApiError && ((error.status === 404 && (!error.code || error.code === 'ROUTE_NOT_FOUND')) || error.status === 405);

/** A fresh Idempotency-Key: a retried click replays the first answer instead of acting twice. */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function api(path, { method = 'GET', body, query, key = readKey(), idempotencyKey } = {}) {
  const url = new URL(`${apiBase}${path}`, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST' || method === 'DELETE') headers['idempotency-key'] = idempotencyKey ?? newIdempotencyKey();
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, { error: `Cannot reach Hangar: ${error.message}`, code: 'NETWORK' });
  }
  const payload = await response.json().catch(() => ({}));
  if (!response.ok || payload.success === false) {
    const error = new ApiError(response.status, payload);
    if (response.status === 401 && key) unauthorized(error);
    throw error;
  }
  return payload;
}

/** `details[].path` → message, for showing each next to its field. */
export function fieldErrors(error) {
  const out = {};
  for (const detail of error?.details ?? []) {
    if (detail?.path && !out[detail.path]) out[detail.path] = detail.message;
  }
  return out;
}

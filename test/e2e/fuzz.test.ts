import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadZod } from '../../shared/domain/zod.ts';
import { ROUTES, type RouteDefinition, routeKey } from '../../shared/http/routes.ts';
import { apiClient, type RuntimeProcess, startRuntimeProcess } from '../support/local-runtime.ts';

// The fuzzer reads each route's query schema for its parameter names; the runtime under test loads zod on its own.
await loadZod();

/**
 * Hostile input over every route of the route table, through the local runtime's HTTP gateway as
 * a client would send it: ids over 1 KB, unicode and malformed escapes; deep, huge, mistyped and
 * prototype-polluting bodies; odd queries and headers; keys of every kind. Whatever arrives, the
 * answer is never a 5xx and always the JSON envelope (`success: false` with `error` and `code`
 * for every error). Inputs come from fast-check with a fixed seed, so a failure replays.
 */
const SEED = 1404;
const TOTAL_REQUESTS = 5_200;
const CONCURRENCY = 12;

let runtime: RuntimeProcess;
let clientAdminKey: string;
let clientId: string;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  runtime = await startRuntimeProcess();
  const admin = apiClient(runtime.url, runtime.adminKey);
  // A client that may hold no instance: a fuzzed body that happens to be a valid create is then
  // refused by the quota instead of starting a process.
  const client = await admin('POST', '/api/clients', { name: 'Fuzz Target', maxInstances: 0 });
  expect(client.status).toBe(201);
  clientId = client.body.client.id;
  const key = await admin('POST', `/api/clients/${clientId}/api-keys`, { name: 'fuzz', role: 'admin' });
  expect(key.status).toBe(201);
  clientAdminKey = key.body.apiKey.key;
});

afterAll(async () => {
  agent.destroy();
  await runtime?.stop();
});

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function send(req: Sent): Promise<Answer> {
  const { hostname, port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port, method: req.method, path: req.path, headers: req.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** What is wrong with an answer, or null: no 5xx, and the JSON envelope on every answer with a body. */
function problemWith(req: Sent, answer: Answer): string | null {
  if (answer.status >= 500) return `HTTP ${answer.status}`;
  if (req.method === 'HEAD') return null;
  let payload: unknown;
  try {
    payload = JSON.parse(answer.body);
  } catch {
    return `HTTP ${answer.status} with a body that is not JSON: ${JSON.stringify(answer.body.slice(0, 120))}`;
  }
  if (typeof payload !== 'object' || payload === null) return `HTTP ${answer.status} with a non-object body`;
  const envelope = payload as { success?: unknown; error?: unknown; code?: unknown };
  if (answer.status >= 400) {
    if (envelope.success !== false || typeof envelope.error !== 'string' || typeof envelope.code !== 'string') {
      return `HTTP ${answer.status} without the error envelope: ${answer.body.slice(0, 160)}`;
    }
  } else if (req.path.split('?')[0] === '/api/openapi.json') {
    // The API description is the OpenAPI document itself, not an envelope around it.
    if (typeof (payload as { openapi?: unknown }).openapi !== 'string') return `HTTP ${answer.status}: not an OpenAPI document`;
  } else if (envelope.success !== true) {
    return `HTTP ${answer.status} without success: true`;
  }
  return null;
}

/** Sends every request, CONCURRENCY at a time; returns each failing one with what was wrong. */
async function sendAll(requests: Sent[], statuses = new Map<number, number>()): Promise<{ req: Sent; problem: string }[]> {
  const failures: { req: Sent; problem: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      const answer = await send(req).catch((error: Error) => ({ status: 599, contentType: '', body: `transport error: ${error.message}` }));
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = problemWith(req, answer);
      if (problem) failures.push({ req, problem });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

// ---- the generators -------------------------------------------------------------------------

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** A path segment: plausible ids, ids over 1 KB, unicode, malformed and odd escapes, traversal. */
const segment = fc.oneof(
  fc.constantFrom('vps-web-server-abc123', 'client-x', 'key-1', 'flavors', 'images', '0', '-1', 'null', 'undefined', '.', '..'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,40}$/),
  fc.integer({ min: 1_000, max: 4_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom('%ff', '%zz', '%', '%e2%82', '%c0%af', '%00', '%2F', '%2e%2e', 'a%20b', '%uD800', '%F0%9F%98%80'),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s).replace(/%/g, '%25')),
);

/** JSON nested `depth` deep, arrays or objects. */
const deep = (depth: number, open: string, close: string) => `${open.repeat(depth)}${close.repeat(depth)}`;

/** A body as sent on the wire: JSON of every shape, hostile structures, and text that is no JSON at all. */
const rawBody = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  {
    weight: 3,
    arbitrary: fc
      .dictionary(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'name', 'config', 'resources', 'tags', 'clientId', 'provider', 'credentials', 'url', 'events', 'minutes', 'hard', 'taskId', 'role'), fc.string()), fc.jsonValue({ maxDepth: 3 }))
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 12_000 }).map((n) => deep(n, '[', ']')) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 6_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1_100_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"config":{"__proto__":{"provider":"AWS"}}}', '{"tags":{"__proto__":"x","constructor":"y"}}') },
  { weight: 1, arbitrary: fc.constantFrom('', 'null', 'true', '1e999', '"', '{', '[1,', '{"a":1,}', "{'a':1}", 'NaN', '\u0000', '\ud800', '[]', '{}', '""') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Malformed escapes sent as they are; every other value is encoded, as a client library would. */
const RAW_ESCAPES = new Set(['%ff', '%zz', '%', '%e2%82']);

/** A query string for `route`: its own parameters with hostile values, and stray ones. */
function queryFor(route: RouteDefinition) {
  const shape = (route.query as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
  const names = [...Object.keys(shape ?? {}), 'clientId', 'limit', 'cursor', 'status', '__proto__', 'a[]', 'constructor'];
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('-1', '0', '1e309', 'NaN', 'Infinity', '99999999999999999999', 'true', '[]', '{}', ...RAW_ESCAPES, 'x'.repeat(3_000), clientId, 'Fuzz Target'),
    fc.integer().map(String),
  );
  return fc
    .array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 5 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${RAW_ESCAPES.has(v) ? v : encodeURIComponent(v)}`).join('&')}` : ''));
}

const KEYS = () => [clientAdminKey, runtime.adminKey, 'hgr_not_a_real_key_000000000000000000000000', '', 'x'.repeat(2_000)];

/** Header sets: keys of every kind, idempotency keys, content types, odd and large values. */
const headers = fc.record({
  key: fc.nat({ max: 4 }),
  authScheme: fc.constantFrom('Bearer ', 'bearer ', 'Basic ', '', 'Bearer  '),
  idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), fc.constant('k'.repeat(3_000))), { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
  extra: fc.option(fc.constantFrom({ 'if-match': '"garbage"' }, { 'x-forwarded-for': '::1, 1.2.3.4' }, { accept: '*/*' }, { 'content-encoding': 'gzip' }, { 'x-large': 'v'.repeat(8_000) }), { nil: undefined }),
});

type HeaderChoice = typeof headers extends fc.Arbitrary<infer T> ? T : never;

function buildRequest(route: RouteDefinition, ids: string[], query: string, body: string | undefined, h: HeaderChoice): Sent {
  let i = 0;
  const path = route.path.replace(/\{\w+\}/g, () => ids[i++ % ids.length]!) + query;
  const key = KEYS()[h.key]!;
  const sent: Sent = {
    method: route.method,
    path,
    headers: {
      ...(key ? { authorization: `${h.authScheme}${key}` } : {}),
      ...(h.idempotencyKey ? { 'idempotency-key': h.idempotencyKey } : {}),
      ...(h.contentType ? { 'content-type': h.contentType } : {}),
      ...((h.extra ?? {}) as Record<string, string>),
    },
  };
  if (body !== undefined && route.method !== 'GET' && route.method !== 'HEAD') {
    sent.body = body;
    sent.headers['content-length'] = String(Buffer.byteLength(body));
  }
  return sent;
}

function requestsFor(route: RouteDefinition, count: number, seed: number): Sent[] {
  const arbitrary = fc.tuple(fc.array(segment, { minLength: 2, maxLength: 2 }), queryFor(route), fc.option(rawBody, { nil: undefined, freq: 6 }), headers);
  return fc.sample(arbitrary, { numRuns: count, seed }).map(([ids, query, body, h]) => buildRequest(route, ids, query, body, h));
}

const describeFailures = (failures: { req: Sent; problem: string }[]) =>
  failures
    .slice(0, 25)
    .map(({ req, problem }) => `${req.method} ${req.path.slice(0, 120)}${req.path.length > 120 ? '…' : ''} [body ${req.body?.length ?? 0} B: ${(req.body ?? '').slice(0, 60)}] → ${problem}`)
    .join('\n');

// ---- the suite ------------------------------------------------------------------------------

describe('fuzzing every route of the route table', () => {
  it(`answers ${TOTAL_REQUESTS}+ hostile requests over ${ROUTES.length} routes with no 5xx and the JSON envelope on every answer`, async () => {
    const perRoute = Math.ceil(TOTAL_REQUESTS / ROUTES.length);
    const requests = ROUTES.flatMap((route, n) => requestsFor(route, perRoute, SEED + n));
    expect(requests.length).toBeGreaterThanOrEqual(5_000);
    expect(new Set(requests.map((r) => r.method)).size).toBeGreaterThan(3);

    const started = Date.now();
    const statuses = new Map<number, number>();
    const failures = await sendAll(requests, statuses);
    const byRoute = new Map<string, number>();
    for (const { req } of failures) {
      const route = ROUTES.find((r) => new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}(\\?|$)`).test(req.path) && r.method === req.method);
      const name = route ? routeKey(route) : `${req.method} (no route)`;
      byRoute.set(name, (byRoute.get(name) ?? 0) + 1);
    }
    console.log(`fuzz: ${requests.length} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures, `${failures.length} failing answers; by route ${JSON.stringify([...byRoute])}\n${describeFailures(failures)}`).toEqual([]);
    // The inputs reach past authentication: validation, lookups and successes all answer.
    const count = (status: number) => statuses.get(status) ?? 0;
    const answered = [...statuses.entries()].sort(([a], [b]) => a - b);
    expect(count(400), JSON.stringify(answered)).toBeGreaterThan(200);
    expect(count(404), JSON.stringify(answered)).toBeGreaterThan(200);
    expect([...statuses].filter(([status]) => status < 300).reduce((n, [, c]) => n + c, 0), JSON.stringify(answered)).toBeGreaterThan(100);
    expect(count(401), JSON.stringify(answered)).toBeLessThan(requests.length / 2);
    // A bound, not a benchmark: the whole run must stay well inside a test's patience.
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 300_000);
});

describe('regressions from the hardening report', () => {
  const api = () => (path: string, init: Partial<Sent> = {}) =>
    send({ method: 'GET', path, headers: { authorization: `Bearer ${clientAdminKey}`, ...init.headers }, ...init });

  it('an id longer than 1 KB is a 404 or 400 on every route that takes one, never a 500', async () => {
    const long = 'vps-' + 'a'.repeat(1_200);
    const requests = ROUTES.filter((r) => r.path.includes('{')).map((route) =>
      buildRequest(route, [long, long], '', route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}', {
        key: 0,
        authScheme: 'Bearer ',
        idempotencyKey: undefined,
        contentType: 'application/json',
        extra: undefined,
      }),
    );
    expect(requests.length).toBeGreaterThanOrEqual(17);
    const failures = await sendAll(requests);
    expect(failures, describeFailures(failures)).toEqual([]);
    for (const req of requests) {
      const answer = await send(req);
      expect([400, 404], `${req.method} ${req.path.slice(0, 40)}…`).toContain(answer.status);
    }
  });

  it('JSON nested 5,000 deep with an Idempotency-Key is a 400 envelope, not a stack overflow', async () => {
    const body = deep(5_000, '[', ']');
    const creating = ROUTES.filter((r) => r.method === 'POST' && r.idempotent && r.body && !r.path.includes('{')).map((r) => r.path);
    expect(creating).toEqual(expect.arrayContaining(['/api/instances', '/api/accounts']));
    for (const path of creating) {
      const answer = await api()(path, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${clientAdminKey}`, 'content-type': 'application/json', 'idempotency-key': `deep-${path}` },
      });
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body), path).toMatchObject({ success: false, code: expect.any(String), error: expect.any(String) });
    }
  });

  it('a malformed % escape in the path is a 400 BAD_REQUEST envelope', async () => {
    for (const path of ['/api/instances/%ff', '/api/instances/%zz', '/api/clients/%ff/api-keys']) {
      const answer = await api()(path);
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body), path).toMatchObject({ success: false, code: 'BAD_REQUEST', error: expect.any(String) });
    }
  });

  it('a header block over 16 KB is a JSON 431', async () => {
    const answer = await api()('/api/instances', { headers: { authorization: `Bearer ${clientAdminKey}`, 'x-padding': 'p'.repeat(17 * 1024) } });
    expect(answer.status).toBe(431);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toMatchObject({ success: false, code: 'HEADERS_TOO_LARGE', error: expect.any(String) });
  });
});

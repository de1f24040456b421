import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ROUTES, type ApiArea, type RouteDefinition, routeKey } from '../../shared/http/routes.ts';

export type AreaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 1024 * 1024;
/** The request line and headers together: API Gateway refuses more than about 10 KB of headers, Node 16 KB by default. */
export const MAX_HEADER_BYTES = 16 * 1024;

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}/?$`), names };
  // Literal paths first, once, rather than sorting the matches of every request.
}).sort((a, b) => a.names.length - b.names.length);

/**
 * Which route a request is for, preferring literal paths (`/instances/stats` over `/instances/{id}`).
 * `malformed-escape`: a path parameter holds a `%` escape that is not UTF-8 (`%ff`, `%zz`), which
 * no id can be, so the request is refused before any handler sees it.
 */
export function matchRoute(
  method: string,
  path: string,
): { route: RouteDefinition; params: Record<string, string> } | 'method-not-allowed' | 'malformed-escape' | null {
  let pathMatched = false;
  let hit: { c: CompiledRoute; m: RegExpExecArray } | undefined;
  for (const c of compiled) {
    const m = c.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (c.route.method === method) {
      hit = { c, m };
      break;
    }
  }
  if (!hit) return pathMatched ? 'method-not-allowed' : null;
  const params: Record<string, string> = {};
  for (const [i, name] of hit.c.names.entries()) {
    const decoded = decodePathSegment(hit.m![i + 1]!);
    if (decoded === null) return 'malformed-escape';
    params[name] = decoded;
  }
  return { route: hit.c.route, params };
}

function decodePathSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const errorBody = (error: string, code: string) => JSON.stringify({ success: false, error, code, details: [] });

/**
 * What Node's HTTP parser refuses before a request exists (headers over MAX_HEADER_BYTES, a
 * malformed request line) still gets the JSON error envelope, written straight to the socket.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    // Mid-response (a reset or a timeout): nothing can be answered any more.
    socket.destroy();
    return;
  }
  const [status, reason, body] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', errorBody(`Request headers are larger than ${MAX_HEADER_BYTES / 1024} KB`, 'HEADERS_TOO_LARGE')]
      : [400, 'Bad Request', errorBody('Malformed HTTP request', 'BAD_REQUEST')];
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

/**
 * The local stand-in for API Gateway: turns each HTTP request into the HTTP API (payload 2.0)
 * event Lambda receives and hands it to the same handler module.
 */
export async function startGateway(options: {
  port: number;
  host?: string;
  handlers: Record<ApiArea, AreaHandler>;
  /** Answers every path outside /api (the web console's files). */
  staticFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const outsideApi = options.staticFiles && !/^\/api(?:[/?#]|$)/.test(req.url ?? '/');
    (outsideApi ? options.staticFiles!(req, res) : serve(req, res, options.handlers)).catch((error) => {
      send(res, 500, { success: false, error: 'Internal error in the local gateway', code: 'INTERNAL_ERROR', details: [] });
      console.error('gateway:', error);
    });
  });
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handlers: Record<ApiArea, AreaHandler>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'OPTIONS') {
    res.writeHead(204, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,POST,PATCH,PUT,DELETE,OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,idempotency-key,if-match',
    });
    res.end();
    return;
  }
  const match = matchRoute(method, url.pathname);
  if (match === null) return send(res, 404, { success: false, error: `No route for ${method} ${url.pathname}`, code: 'ROUTE_NOT_FOUND', details: [] });
  if (match === 'malformed-escape') {
    return send(res, 400, { success: false, error: `The path ${url.pathname} holds a malformed % escape`, code: 'BAD_REQUEST', details: [] });
  }
  if (match === 'method-not-allowed') {
    return send(res, 405, { success: false, error: `${method} is not allowed on ${url.pathname}`, code: 'METHOD_NOT_ALLOWED', details: [] });
  }
  const body = await readBody(req);
  if (body === null) return send(res, 413, { success: false, error: 'Request body is larger than 1 MiB', code: 'PAYLOAD_TOO_LARGE', details: [] });

  const requestId = randomUUID();
  const now = new Date();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: routeKey(match.route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.params).length ? { pathParameters: match.params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: routeKey(match.route),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body } : {}),
    isBase64Encoded: false,
  };
  const result = await handlers[match.route.area](event, lambdaContext(match.route.area, requestId));
  res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'x-request-id': requestId });
  res.end(result.body ?? '');
}

/** The Context a Lambda invocation would receive, for handlers run in this process. */
export function lambdaContext(area: string, requestId: string = randomUUID()): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `hangar-local-${area}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:hangar-local-${area}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/local/hangar-${area}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function readBody(req: IncomingMessage): Promise<string | null> | string {
  // A request that declares no body (most GETs) has none: no listeners, no turn of the loop.
  // Node discards anything unread once the response ends, so keep-alive stays in step.
  if (req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] ?? '0') === '0') return '';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ROUTES, type ApiArea, type RouteDefinition, routeKey } from '../../shared/http/routes.ts';

export type AreaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 1024 * 1024;

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
});

/** Which route a request is for, preferring literal paths (`/instances/stats` over `/instances/{id}`). */
export function matchRoute(method: string, path: string): { route: RouteDefinition; params: Record<string, string> } | 'method-not-allowed' | null {
  const candidates = compiled
    .map((c) => ({ c, m: c.pattern.exec(path) }))
    .filter((x) => x.m)
    .sort((a, b) => a.c.names.length - b.c.names.length);
  const hit = candidates.find((x) => x.c.route.method === method);
  if (!hit) return candidates.length ? 'method-not-allowed' : null;
  const params = Object.fromEntries(hit.c.names.map((name, i) => [name, decodeURIComponent(hit.m![i + 1]!)]));
  return { route: hit.c.route, params };
}

/**
 * The local stand-in for API Gateway: turns each HTTP request into the HTTP API (payload 2.0)
 * event Lambda receives and hands it to the same handler module.
 */
export async function startGateway(options: { port: number; host?: string; handlers: Record<ApiArea, AreaHandler> }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    serve(req, res, options.handlers).catch((error) => {
      send(res, 500, { success: false, error: 'Internal error in the local gateway', code: 'INTERNAL_ERROR', details: [] });
      console.error('gateway:', error);
    });
  });
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
      'access-control-allow-headers': 'authorization,content-type,idempotency-key',
    });
    res.end();
    return;
  }
  const match = matchRoute(method, url.pathname);
  if (match === null) return send(res, 404, { success: false, error: `No route for ${method} ${url.pathname}`, code: 'ROUTE_NOT_FOUND', details: [] });
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

function readBody(req: IncomingMessage): Promise<string | null> {
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

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaContext } from '../../infra/local/gateway.ts';
import { httpApi, type HttpDeps, type RouteHandlers } from '../../shared/http/http-api.ts';
import { type ApiArea, routesOf } from '../../shared/http/routes.ts';

export interface CallOptions {
  key: string;
  body?: unknown;
  /** Sent as the raw body, e.g. '' for an empty one. */
  rawBody?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: Record<string, any>;
}

/**
 * One API area's Lambda handler, called as API Gateway (HTTP API, payload 2.0) would call it:
 * the route is matched by its template, path parameters filled in, the answer parsed.
 */
export function areaCaller<D extends HttpDeps>(area: ApiArea, handlers: RouteHandlers<D>, deps: () => D) {
  const handler = httpApi(area, handlers, deps);
  let seq = 0;
  return async (method: string, path: string, options: CallOptions): Promise<CallResult> => {
    const route = routesOf(area).find((r) => r.method === method && templateMatch(r.path, path));
    if (!route) throw new Error(`No ${area} route for ${method} ${path}`);
    const pathParameters = templateMatch(route.path, path)!;
    const requestId = `req-${area}-${++seq}`;
    const routeKey = `${method} ${route.path}`;
    const event = {
      version: '2.0',
      routeKey,
      rawPath: path,
      rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
      headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json', ...(options.headers ?? {}) },
      ...(options.query ? { queryStringParameters: options.query } : {}),
      ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
      requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId, routeKey, stage: '$default' },
      ...(options.rawBody !== undefined ? { body: options.rawBody } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const result = (await handler(event, lambdaContext(area, requestId))) as APIGatewayProxyStructuredResultV2;
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    return { status: result.statusCode ?? 0, headers, body: JSON.parse(result.body ?? '{}') };
  };
}

function templateMatch(template: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const pattern = new RegExp(`^${template.replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
  const match = pattern.exec(path);
  if (!match) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
}

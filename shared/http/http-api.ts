import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { composeOnce } from '../config/compose-once.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Principal } from '../domain/roles.ts';
import { parseInput } from '../domain/validate.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger, metrics } from '../observability/powertools.ts';
import { mapError } from './errors.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { exceedsJsonDepth, PayloadTooLargeError } from './json-limits.ts';
import { type HttpResult, toResponse } from './responses.ts';
import { type ApiArea, type RouteDefinition, routesOf } from './routes.ts';

/** What every authenticated area's composition provides to the HTTP stack itself. */
export interface HttpDeps {
  authenticator: { authenticate(authorization: string | undefined): Promise<Principal> };
  /**
   * Where Idempotency-Key records live (the table, on every deployment), loaded with Powertools'
   * idempotency on the first request that carries a key: most never do.
   */
  idempotencyStore: () => Promise<BasePersistenceLayer>;
}

/** What a route handler receives: validated, authenticated, and nothing of the Lambda event shape. */
export interface HttpRequest<D = HttpDeps> {
  principal: Principal;
  params: Record<string, string>;
  /** Validated by the route's query schema when it has one. */
  query: Record<string, string> & Record<string, unknown>;
  /** Validated by the route's body schema when it has one. */
  body: unknown;
  headers: Record<string, string>;
  requestId: string;
  deps: D;
}

export type RouteHandler<D = HttpDeps> = (request: HttpRequest<D>) => Promise<HttpResult>;
export type RouteHandlers<D = HttpDeps> = Record<string, RouteHandler<D>>;

type Event = APIGatewayProxyEventV2 & { body?: unknown };
type Response = APIGatewayProxyStructuredResultV2;

/** Bodies larger or deeper than this are refused before they are parsed or hashed. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 32;
/** Ids and other path segments are short words; anything else cannot name a stored item. */
const PATH_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** Only parse bodies that exist (actions and deletes carry none), and only sane ones. */
const jsonBody = (): middy.MiddlewareObj<Event> => {
  // Any content type: curl -d sends form encoding by default, and the API speaks only JSON.
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]);
  return {
    before: async (request) => {
      const raw = request.event.body;
      if (typeof raw === 'string' && raw.trim() === '') request.event.body = undefined;
      if (typeof raw !== 'string' || request.event.body === undefined) return;
      const text = request.event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new PayloadTooLargeError(`Request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
      if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
        throw new ValidationError(`Request body nests deeper than ${MAX_JSON_DEPTH} levels; no Hangar request needs that`, [], 'MALFORMED_JSON');
      }
      await parser.before!(request as never);
    },
  };
};

/** Answers by status class (Http2xx, Http4xx, Http5xx): what the operators' alarms watch. */
const countResponse = (status: number) => metrics.addMetric(`Http${Math.floor(status / 100)}xx`, MetricUnit.Count, 1);

/** Errors become the contract's JSON, in this one place; unexpected ones are logged, never shown. */
const errorResponses = (): middy.MiddlewareObj<Event, Response> => ({
  onError: async (request) => {
    const mapped = mapError(request.error);
    const requestId = request.event.requestContext?.requestId ?? request.context.awsRequestId;
    if (mapped.unexpected) logger.error('Unhandled error', { error: request.error as Error, requestId });
    request.response = toResponse(mapped.statusCode, { ...mapped.body, requestId });
    countResponse(mapped.statusCode);
  },
});

/** No body, or `{}` (what a client sends when it forgot to fill it in). */
const isEmptyBody = (body: unknown) =>
  body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);

/** Path segments are checked before anything reaches the table: a malformed id is simply not found. */
function checkedParams(route: RouteDefinition, event: Event): Record<string, string> {
  const params = (event.pathParameters ?? {}) as Record<string, string>;
  for (const [name, value] of Object.entries(params)) {
    if (!PATH_SEGMENT.test(value)) {
      const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      throw new NotFoundError(name === 'id' ? resourceOf(route) : name, shown);
    }
  }
  return params;
}

const resourceOf = (route: RouteDefinition) => {
  const noun = route.path.split('/')[2] ?? 'item';
  return noun === 'sync-jobs' ? 'Sync job' : `${noun[0]!.toUpperCase()}${noun.slice(1).replace(/s$/, '').replace(/-/g, ' ')}`;
};

function adapt<D extends HttpDeps>(route: RouteDefinition, handler: RouteHandler<D>, compose: () => Promise<D>) {
  return async (event: Event, context: Context): Promise<Response> => {
    const headers = (event.headers ?? {}) as Record<string, string>;
    const params = checkedParams(route, event);
    // Public routes (liveness, the API description) answer without a table.
    const deps = route.auth ? await compose() : (undefined as never);
    const principal: Principal = route.auth
      ? await deps.authenticator.authenticate(headers.authorization)
      : { keyId: 'anonymous', role: 'viewer', clientId: null };
    const query = (route.query ? await parseInput(route.query, event.queryStringParameters ?? {}, 'query') : (event.queryStringParameters ?? {})) as HttpRequest['query'];
    if (route.bodyRequired && isEmptyBody(event.body)) {
      throw new ValidationError(route.bodyRequired, [{ path: '', message: 'a JSON body is required' }], 'BODY_REQUIRED');
    }
    const body = route.body ? await parseInput(route.body, event.body ?? {}, route.what) : event.body;
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const run = async () => {
      const result = await handler({ principal, params, query, body, headers, requestId, deps });
      countResponse(result.status);
      return toResponse(result.status, result.raw ? result.payload : { success: true, ...result.payload }, result.headers);
    };
    const idempotencyKey = headers['idempotency-key'];
    if (!route.idempotent || !idempotencyKey) return run();
    const { runIdempotently } = await import('./idempotent-requests.ts');
    return runIdempotently(
      await deps.idempotencyStore(),
      context,
      { scope: `${principal.keyId} ${route.method} ${event.rawPath}`, key: idempotencyKey.slice(0, 256), body: canonicalJson(event.body ?? null) },
      run,
    );
  };
}

/**
 * One Lambda handler for an API area: router, auth, validation, body parsing, CORS, errors.
 * `compose` builds what the area's handlers use, once per process, on the first request that
 * needs it; public areas have none.
 */
export function httpApi<D extends HttpDeps>(area: ApiArea, handlers: RouteHandlers<D>, compose?: () => D | Promise<D>) {
  const deps = composeOnce<D>(() => {
    if (!compose) throw new Error(`The ${area} API has routes that need a composition but was given none`);
    return compose();
  });
  const routes = routesOf(area).map((route) => {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`No handler for ${route.operationId} in area ${area}`);
    return { method: route.method, path: route.path, handler: adapt(route, handler, deps) };
  });
  return middy<Event, Response>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(httpHeaderNormalizer())
    .use(httpCors({ origins: ['*'], headers: 'authorization,content-type,idempotency-key,if-match', exposeHeaders: 'etag' }))
    .use(errorResponses())
    .use(jsonBody())
    .handler(httpRouterHandler(routes as never) as never);
}

import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Principal } from '../domain/roles.ts';
import { appDependencies, type AppDependencies } from '../config/composition.ts';
import { logger } from '../observability/logger.ts';
import { mapError } from './errors.ts';
import { type HttpResult, toResponse } from './responses.ts';
import { type ApiArea, type RouteDefinition, routesOf } from './routes.ts';


/** What a route handler receives: parsed, authenticated, and nothing of the Lambda event shape. */
export interface HttpRequest {
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string>;
  requestId: string;
  deps: AppDependencies;
}

export type RouteHandler = (request: HttpRequest) => Promise<HttpResult>;

type Event = APIGatewayProxyEventV2 & { body?: unknown };
type Response = APIGatewayProxyStructuredResultV2;

/** Only parse bodies that exist: actions and deletes carry none. */
const jsonBody = (): middy.MiddlewareObj<Event> => {
  // Any content type: curl -d sends form encoding by default, and the API speaks only JSON.
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]);
  return {
    before: async (request) => {
      const raw = request.event.body;
      if (typeof raw === 'string' && raw.trim() === '') request.event.body = undefined;
      if (request.event.body !== undefined) await parser.before!(request as never);
    },
  };
};

/** Errors become the contract's JSON, in this one place; unexpected ones are logged, never shown. */
const errorResponses = (): middy.MiddlewareObj<Event, Response> => ({
  onError: async (request) => {
    const mapped = mapError(request.error);
    const requestId = request.event.requestContext?.requestId ?? request.context.awsRequestId;
    if (mapped.unexpected) logger.error('Unhandled error', { error: request.error as Error, requestId });
    request.response = toResponse(mapped.statusCode, { ...mapped.body, requestId });
  },
});

/**
 * The Idempotency-Key contract: the same key and body replays the first response; the same key
 * with another body is a 409. Keys are scoped to the caller's API key and the route, and live 24 h.
 */
interface IdempotentCall {
  scope: string;
  key: string;
  body: string;
}
let idempotentRunner: ((call: IdempotentCall, work: () => Promise<Response>) => Promise<Response>) | undefined;
let idempotencyConfig: IdempotencyConfig | undefined;
function runIdempotently(deps: AppDependencies, context: Context, call: IdempotentCall, work: () => Promise<Response>): Promise<Response> {
  idempotencyConfig ??= new IdempotencyConfig({
    eventKeyJmesPath: '[scope, key]',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: 24 * 60 * 60,
  });
  // Lets an in-progress record expire with the invocation if the function dies mid-request.
  idempotencyConfig.registerLambdaContext(context);
  idempotentRunner ??= makeIdempotent(async (_call: IdempotentCall, run: () => Promise<Response>) => run(), {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: deps.db.tableName,
      awsSdkV3Client: deps.db.client,
      keyAttr: 'pk',
      sortKeyAttr: 'sk',
      staticPkValue: 'IDEMPOTENCY',
      expiryAttr: 'ttl',
    }),
    config: idempotencyConfig,
    dataIndexArgument: 0,
  });
  return idempotentRunner(call, work);
}

function adapt(route: RouteDefinition, handler: RouteHandler) {
  return async (event: Event, context: Context): Promise<Response> => {
    // Public routes (liveness, the API description) must answer without a table.
    const deps = route.auth ? await appDependencies() : (undefined as never);
    const headers = (event.headers ?? {}) as Record<string, string>;
    const principal: Principal = route.auth
      ? await deps.authenticator.authenticate(headers.authorization)
      : { keyId: 'anonymous', role: 'viewer', clientId: null };
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const run = async () => {
      const result = await handler({
        principal,
        params: (event.pathParameters ?? {}) as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        body: event.body,
        headers,
        requestId,
        deps,
      });
      return toResponse(result.status, result.raw ? result.payload : { success: true, ...result.payload }, result.headers);
    };
    const idempotencyKey = headers['idempotency-key'];
    if (!route.idempotent || !idempotencyKey) return run();
    return runIdempotently(
      deps,
      context,
      { scope: `${principal.keyId} ${route.method} ${event.rawPath}`, key: idempotencyKey, body: JSON.stringify(event.body ?? null) },
      run,
    );
  };
}

/** One Lambda handler for an API area: router, auth, body parsing, CORS, errors. */
export function httpApi(area: ApiArea, handlers: Record<string, RouteHandler>) {
  const routes = routesOf(area).map((route) => {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`No handler for ${route.operationId} in area ${area}`);
    return { method: route.method, path: route.path, handler: adapt(route, handler) };
  });
  return middy<Event, Response>()
    .use(httpHeaderNormalizer())
    .use(httpCors({ origins: ['*'], headers: 'authorization,content-type,idempotency-key' }))
    .use(errorResponses())
    .use(jsonBody())
    .handler(httpRouterHandler(routes as never) as never);
}

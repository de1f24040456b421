import middy from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { composeOnce } from '../config/compose-once.ts';
import { UnauthorizedError } from '../domain/errors.ts';
import { logger, metrics } from '../observability/powertools.ts';

/** What API Gateway hands a WebSocket route's function; `$connect` also carries the query string. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> | null };
export type WebSocketResult = { statusCode: number; body?: string };

/**
 * The middy stack of the WebSocket API's route functions (`$connect`, `$disconnect`,
 * `$default`): the function's own composition built on first use, Powertools around it, and the
 * one error rule: a refused credential answers 401 (at `$connect`, the socket is refused), anything
 * else is logged and answers 500 without detail.
 */
export function webSocketRoute<D>(compose: () => D | Promise<D>, run: (deps: D, event: WebSocketEvent) => Promise<WebSocketResult | void>) {
  const deps = composeOnce(compose);
  return middy<WebSocketEvent, APIGatewayProxyResultV2, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event) => {
      try {
        const result = (await run(await deps(), event)) ?? { statusCode: 200 };
        metrics.addMetric(`WebSocket${event.requestContext.eventType}`, MetricUnit.Count, 1);
        return result;
      } catch (error) {
        if (error instanceof UnauthorizedError) return { statusCode: 401, body: JSON.stringify({ success: false, error: error.message, code: error.code }) };
        logger.error('WebSocket route failed', { error: error as Error, routeKey: event.requestContext.routeKey });
        return { statusCode: 500, body: JSON.stringify({ success: false, error: 'Internal error', code: 'INTERNAL_ERROR' }) };
      }
    });
}

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { composeOnce } from '../config/compose-once.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger, metrics } from '../observability/powertools.ts';
import { toStepError } from '../workflows/step-errors.ts';

/**
 * The middy stacks for functions that are not HTTP routes: scheduled jobs (EventBridge
 * Scheduler, asynchronous invocations) and workflow tasks (Step Functions). Like `httpApi`,
 * each receives the function's own composition and builds it on first use.
 */
export function scheduledJob<D, E, R>(compose: () => D | Promise<D>, run: (deps: D, event: E) => Promise<R>) {
  const deps = composeOnce(compose);
  return observed(middy<E, R, Error, Context>()).handler(async (event) => {
    const result = await run(await deps(), event);
    metrics.addMetric('JobRuns', MetricUnit.Count, 1);
    return result;
  });
}

/** Every function's Powertools: the request in each log line, metrics flushed per invocation. */
function observed<E, R>(handler: middy.MiddyfiedHandler<E, R, Error, Context>) {
  return handler
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

/** Failures leave with the names the state machines' Retry and Catch rules know. */
export function workflowTask<D, E extends { step?: string; instanceId?: string }, R>(compose: () => D | Promise<D>, run: (deps: D, input: E) => Promise<R>) {
  const deps = composeOnce(compose);
  return observed(middy<E, R, Error, Context>())
    .use({
      onError: async (request) => {
        logger.warn('Workflow step failed', { step: request.event.step, instanceId: request.event.instanceId, error: request.error?.message });
        metrics.addMetric('WorkflowStepFailures', MetricUnit.Count, 1);
        request.error = toStepError(request.error);
      },
    })
    .handler(async (input) => {
      const output = await run(await deps(), input);
      metrics.addMetric('WorkflowSteps', MetricUnit.Count, 1);
      return output;
    });
}

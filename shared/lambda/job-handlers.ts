import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { composeOnce } from '../config/compose-once.ts';
import { logger } from '../observability/logger.ts';
import { toStepError } from '../workflows/step-errors.ts';

/**
 * The middy stacks for functions that are not HTTP routes: scheduled jobs (EventBridge
 * Scheduler, asynchronous invocations) and workflow tasks (Step Functions). Like `httpApi`,
 * each receives the function's own composition and builds it on first use.
 */
export function scheduledJob<D, E, R>(compose: () => D | Promise<D>, run: (deps: D, event: E) => Promise<R>) {
  const deps = composeOnce(compose);
  return middy<E, R, Error, Context>().handler(async (event) => run(await deps(), event));
}

/** Failures leave with the names the state machines' Retry and Catch rules know. */
export function workflowTask<D, E extends { step?: string; instanceId?: string }, R>(compose: () => D | Promise<D>, run: (deps: D, input: E) => Promise<R>) {
  const deps = composeOnce(compose);
  return middy<E, R, Error, Context>()
    .use({
      onError: async (request) => {
        logger.warn('Workflow step failed', { step: request.event.step, instanceId: request.event.instanceId, error: request.error?.message });
        request.error = toStepError(request.error);
      },
    })
    .handler(async (input) => run(await deps(), input));
}

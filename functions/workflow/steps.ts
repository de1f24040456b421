import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/observability/logger.ts';
import { runStep, type StepInput } from '../../shared/workflows/run-step.ts';
import { toStepError } from '../../shared/workflows/step-errors.ts';

/**
 * Every Task state of every lifecycle state machine calls this one function with `{ step, … }`.
 * Failures leave with the names the machines' Retry and Catch rules know.
 */
export const handler = middy<StepInput, unknown, Error, Context>()
  .use({
    onError: async (request) => {
      logger.warn('Workflow step failed', { step: request.event.step, instanceId: request.event.instanceId, error: request.error?.message });
      request.error = toStepError(request.error);
    },
  })
  .handler(async (input) => {
    const deps = await appDependencies();
    return runStep(deps.services.provisioning, input);
  });

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/observability/logger.ts';

/** Every minute: probe every up instance, a bounded number at a time. */
export const handler = middy<unknown, { checked: number }, Error, Context>().handler(async () => {
  const deps = await appDependencies();
  const checked = await deps.services.health.checkAll();
  logger.info('Health checks done', { checked });
  return { checked };
});

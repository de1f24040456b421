import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/http/http-api.ts';

/** Every few minutes: terminate what a lost schedule missed. */
export const handler = middy<unknown, { terminated: number }, Error, Context>().handler(async () => {
  const deps = await appDependencies();
  const terminated = await deps.services.automations!.sweep();
  if (terminated) logger.warn('Sweeper terminated instances past their deadline', { terminated });
  return { terminated };
});

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/observability/logger.ts';

/** Every few minutes: terminate what a lost schedule missed, and stop instances idle too long. */
export const handler = middy<unknown, { terminated: number; idleStopped: number }, Error, Context>().handler(async () => {
  const deps = await appDependencies();
  const terminated = await deps.services.automations!.sweep();
  const idleStopped = await deps.services.automations!.stopIdle();
  if (terminated) logger.warn('Sweeper terminated instances past their deadline', { terminated });
  if (idleStopped) logger.info('Stopped idle instances', { idleStopped });
  return { terminated, idleStopped };
});

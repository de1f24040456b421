import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/http/http-api.ts';
import type { DeadlinePayload } from '../../shared/services/automations.ts';

/** The target of every per-instance deadline schedule: terminate it if the deadline still stands. */
export const handler = middy<DeadlinePayload, { status: string | null }, Error, Context>().handler(async (payload) => {
  const deps = await appDependencies();
  const instance = await deps.services.automations!.terminateIfDue(payload, 'schedule');
  logger.info('Deadline fired', { instanceId: payload.instanceId, status: instance?.status });
  return { status: instance?.status ?? null };
});

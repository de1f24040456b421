import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { appDependencies } from '../../shared/config/composition.ts';
import { logger } from '../../shared/observability/logger.ts';
import type { DeadlinePayload } from '../../shared/services/automations.ts';

/** The target of every per-instance deadline schedule: warn ahead of it, or terminate if it still stands. */
export const handler = middy<DeadlinePayload, void, Error, Context>().handler(async (payload) => {
  const deps = await appDependencies();
  await deps.services.automations!.onSchedule(payload);
  logger.info('Deadline schedule fired', { instanceId: payload.instanceId, kind: payload.kind ?? 'terminate' });
});

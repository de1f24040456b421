import { composeHangar } from '../../shared/config/composition.ts';
import { deadlineSchedulerFromLambdaEnvironment, deadlineWarningMinutesFromEnvironment, stepFunctionsFromEnvironment, tableFromEnvironment } from '../../shared/config/lambda-pieces.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/logger.ts';
import type { DeadlinePayload } from '../../shared/services/automations.ts';

/** The target of every per-instance deadline schedule: warn ahead of it, or terminate if it still stands. */
export const handler = scheduledJob(
  () =>
    composeHangar({
      db: tableFromEnvironment(),
      scheduler: deadlineSchedulerFromLambdaEnvironment(),
      deadlineWarningMinutes: deadlineWarningMinutesFromEnvironment(),
      workflows: stepFunctionsFromEnvironment,
    }),
  async (deps, payload: DeadlinePayload) => {
    await deps.services.automations!.onSchedule(payload);
    logger.info('Deadline schedule fired', { instanceId: payload.instanceId, kind: payload.kind ?? 'terminate' });
  },
);

import { EventBridgeScheduler } from '../../shared/adapters/aws/eventbridge-scheduler.ts';
import { StepFunctionsWorkflows } from '../../shared/adapters/aws/step-functions-workflows.ts';
import { deadlineWarningMinutesFromEnvironment } from '../../shared/config/env.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';
import type { DeadlinePayload } from '../../shared/services/automations.ts';

/** The target of every per-instance deadline schedule: warn ahead of it, or terminate if it still stands. */
export const handler = scheduledJob(
  () =>
    composeHangar({
      db: tableFromEnvironment(),
      scheduler: EventBridgeScheduler.fromEnvironment(),
      deadlineWarningMinutes: deadlineWarningMinutesFromEnvironment(),
      workflows: () => StepFunctionsWorkflows.fromEnvironment(),
    }),
  async (deps, payload: DeadlinePayload) => {
    await deps.services.automations!.onSchedule(payload);
    logger.info('Deadline schedule fired', { instanceId: payload.instanceId, kind: payload.kind ?? 'terminate' });
  },
);

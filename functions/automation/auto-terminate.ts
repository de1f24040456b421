import { schedulerOnFirstUse } from '../../shared/config/on-first-use/scheduler.ts';
import { workflowsOnFirstUse } from '../../shared/config/on-first-use/workflows.ts';
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
      scheduler: schedulerOnFirstUse(),
      deadlineWarningMinutes: deadlineWarningMinutesFromEnvironment(),
      workflows: workflowsOnFirstUse,
    }),
  async (deps, payload: DeadlinePayload) => {
    await deps.services.automations!.onSchedule(payload);
    logger.info('Deadline schedule fired', { instanceId: payload.instanceId, kind: payload.kind ?? 'terminate' });
  },
);

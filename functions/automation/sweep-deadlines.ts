import { EventBridgeScheduler } from '../../shared/adapters/aws/eventbridge-scheduler.ts';
import { StepFunctionsWorkflows } from '../../shared/adapters/aws/step-functions-workflows.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';

/** Every few minutes: terminate what a lost schedule missed, and stop instances idle too long. */
export const handler = scheduledJob(
  () => composeHangar({ db: tableFromEnvironment(), scheduler: EventBridgeScheduler.fromEnvironment(), workflows: () => StepFunctionsWorkflows.fromEnvironment() }),
  async (deps) => {
    const terminated = await deps.services.automations!.sweep();
    const idleStopped = await deps.services.automations!.stopIdle();
    if (terminated) logger.warn('Sweeper terminated instances past their deadline', { terminated });
    if (idleStopped) logger.info('Stopped idle instances', { idleStopped });
    return { terminated, idleStopped };
  },
);

import { composeHangar } from '../../shared/config/composition.ts';
import { deployedMachinePieces } from '../../shared/config/shared-providers.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';

/** Every minute: probe every up instance, a bounded number at a time, read from the status index a page at a time. */
export const handler = scheduledJob(
  () => composeHangar(deployedMachinePieces()),
  async (deps) => {
    const checked = await deps.services.health.checkAll();
    logger.info('Health checks done', { checked });
    return { checked };
  },
);

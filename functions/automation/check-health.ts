import { cloudProviderFactory } from '../../shared/config/cloud-providers.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { kmsSecretBoxFromEnvironment, tableFromEnvironment } from '../../shared/config/lambda-pieces.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/logger.ts';

/** Every minute: probe every up instance, a bounded number at a time. */
export const handler = scheduledJob(
  () => composeHangar({ db: tableFromEnvironment(), providerFactory: cloudProviderFactory, secretBox: kmsSecretBoxFromEnvironment() }),
  async (deps) => {
    const checked = await deps.services.health.checkAll();
    logger.info('Health checks done', { checked });
    return { checked };
  },
);

import { KmsSecretBox } from '../../shared/adapters/aws/kms-secret-box.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { cloudProviderFactory } from '../../shared/config/cloud-providers.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { deployedSharedProviders } from '../../shared/config/shared-providers.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';

/** Every minute: probe every up instance, a bounded number at a time. */
export const handler = scheduledJob(
  () => {
    const db = tableFromEnvironment();
    return composeHangar({ db, providers: deployedSharedProviders(db), providerFactory: cloudProviderFactory, secretBox: KmsSecretBox.fromEnvironment() });
  },
  async (deps) => {
    const checked = await deps.services.health.checkAll();
    logger.info('Health checks done', { checked });
    return { checked };
  },
);

import { schedulerOnFirstUse } from '../../shared/config/on-first-use/scheduler.ts';
import { workflowsOnFirstUse } from '../../shared/config/on-first-use/workflows.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';
import { composeHangar } from '../../shared/config/composition.ts';
import { scheduledJob } from '../../shared/lambda/job-handlers.ts';
import { logger } from '../../shared/observability/powertools.ts';

/**
 * Every few minutes: terminate what a lost schedule missed, stop instances idle too long, and check
 * budgets. Deadlines and idle stops are read from the table's index by due time, so a run reads
 * what is due, not every live instance; the schedule's Lambda may overlap a slow previous run,
 * which is harmless: every act is conditional on the instance's version and decided again on it.
 * Most runs find nothing due, so the Scheduler and Step Functions clients load only when one acts.
 */
export const handler = scheduledJob(
  () => composeHangar({ db: tableFromEnvironment(), scheduler: schedulerOnFirstUse(), workflows: workflowsOnFirstUse }),
  async (deps) => {
    const terminated = await deps.services.automations!.sweep();
    const idleStopped = await deps.services.automations!.stopIdle();
    // Budget thresholds (and the `stop` action) are swept here too: costs move even when no status does.
    const budgetAlerts = await deps.services.business.budgets.sweep();
    if (terminated) logger.warn('Sweeper terminated instances past their deadline', { terminated });
    if (idleStopped) logger.info('Stopped idle instances', { idleStopped });
    if (budgetAlerts) logger.info('Announced budget thresholds', { budgetAlerts });
    return { terminated, idleStopped, budgetAlerts };
  },
);

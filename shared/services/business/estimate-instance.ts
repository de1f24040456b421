import { type Accrued, accruedUntil, timelineOf } from '../../domain/billing.ts';
import type { Budget } from '../../domain/budget.ts';
import { billingPlanOf, type Instance, storageCostPerHourOf } from '../../domain/instance.ts';
import type { Micros } from '../../domain/money.ts';
import type { Principal } from '../../domain/roles.ts';
import { prepareCreate, type CreateInstanceDeps } from '../instances/create-instance.ts';
import { budgetForCreate } from './client-budget.ts';

const HOUR_MS = 3_600_000;

export interface Estimate {
  instance: Instance;
  costPerHourMicros: Micros;
  storageCostPerHourMicros: Micros;
  untilAutoTerminate: Accrued | null;
  perDay: Accrued;
  perMonth: Accrued;
  billingCycle: 'hourly' | 'monthly';
  budget: { budget: Budget | undefined; spentMicros: Micros; forecastAfterMicros: Micros; allowed: boolean };
}

/**
 * POST /api/instances/estimate: the create's own checks and plan (`prepareCreate`), then what
 * the planned instance accrues by billing.ts if it is up from now, over its auto-terminate
 * window, a day and a 730-hour month; and what the client's budget makes of it. Writes nothing.
 */
export function makeEstimateInstance(deps: Omit<CreateInstanceDeps, 'workflows'>) {
  return async function estimateInstance(principal: Principal, body: unknown): Promise<Estimate> {
    const { client, instance } = await prepareCreate(deps, principal, body);
    const now = deps.clock.now().getTime();
    const plan = billingPlanOf(instance);
    const timeline = timelineOf([{ at: new Date(now).toISOString(), status: 'READY' }]);
    const over = (ms: number) => accruedUntil(plan, timeline, now + ms);
    const { view, forecastAfterMicros, decision } = await budgetForCreate(deps, client, instance, now);
    return {
      instance,
      costPerHourMicros: instance.costPerHourMicros,
      storageCostPerHourMicros: storageCostPerHourOf(instance),
      untilAutoTerminate: instance.autoTerminateMinutes ? over(instance.autoTerminateMinutes * 60_000) : null,
      perDay: over(24 * HOUR_MS),
      perMonth: over(730 * HOUR_MS),
      billingCycle: instance.billingCycle ?? 'hourly',
      budget: { budget: client.budget, spentMicros: view.spentMicros, forecastAfterMicros, allowed: decision.allowed },
    };
  };
}

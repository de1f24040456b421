import type { BusinessActionRepository } from '../../ports/business-action-repository.ts';
import { makeAuditService } from '../audit.ts';
import type { ServiceDeps } from '../deps.ts';
import { makeBudgetSweep } from './budget-sweep.ts';
import { makeClientBudget } from './client-budget.ts';
import { makeClientRevenue } from './client-revenue.ts';
import { makeEstimateInstance } from './estimate-instance.ts';

/** The business use cases (DESIGN, Business): audit, revenue, budgets, the estimate and the budget sweep. */
export function makeBusinessServices(deps: ServiceDeps & { actions: BusinessActionRepository }) {
  return {
    audit: makeAuditService(deps),
    revenue: makeClientRevenue(deps),
    budget: makeClientBudget(deps),
    estimate: makeEstimateInstance(deps),
    budgets: makeBudgetSweep(deps),
  };
}

export type BusinessServices = ReturnType<typeof makeBusinessServices>;

import { type Budget, budgetDecision, crossedThresholds, forecastOf, monthBounds } from '../../domain/budget.ts';
import type { Client } from '../../domain/client.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { Instance } from '../../domain/instance.ts';
import type { Micros } from '../../domain/money.ts';
import { microsToUnits } from '../../domain/money.ts';
import { requireRole, type Principal } from '../../domain/roles.ts';
import type { ServiceDeps } from '../deps.ts';
import { resolveClient } from '../tenancy.ts';
import { accruingPerHour, allInstancesOf, monthSpend } from './client-spend.ts';

export interface BudgetView {
  clientId: string;
  month: string;
  budget: Budget | undefined;
  spentMicros: Micros;
  forecastMicros: Micros;
  crossed: number[];
}

/** The month's spend, its forecast, and the thresholds crossed, for a client as it stands. */
export async function budgetViewOf(deps: Pick<ServiceDeps, 'instances'>, client: Client, now: number, instances?: Instance[]): Promise<BudgetView & { ratePerHourMicros: Micros }> {
  const all = instances ?? (await allInstancesOf(deps.instances, client.clientId));
  const { spentMicros, ratePerHourMicros, monthStart } = monthSpend(all, now);
  return {
    clientId: client.clientId,
    month: new Date(monthStart).toISOString().slice(0, 7),
    budget: client.budget,
    spentMicros,
    forecastMicros: forecastOf(spentMicros, ratePerHourMicros, now),
    crossed: client.budget ? crossedThresholds(client.budget, spentMicros) : [],
    ratePerHourMicros,
  };
}

/** GET /api/clients/{id}/budget: a client's admin its own; the platform admin any. */
export function makeClientBudget(deps: Pick<ServiceDeps, 'clients' | 'instances' | 'clock'>) {
  return async function clientBudget(principal: Principal, clientId: string): Promise<BudgetView> {
    requireRole(principal, 'viewer', 'read budgets');
    const client = await resolveClient(deps, principal, clientId);
    const { ratePerHourMicros: _rate, ...view } = await budgetViewOf(deps, client, deps.clock.now().getTime());
    return view;
  };
}

/**
 * What a create would do to the month: the spend, the forecast once this instance runs (until
 * its auto-terminate deadline if it has one, else to month end), and whether the budget lets
 * it start (`block` and `stop` refuse while either is over the limit).
 */
export async function budgetForCreate(deps: Pick<ServiceDeps, 'instances'>, client: Client, instance: Instance, now: number) {
  const view = await budgetViewOf(deps, client, now);
  const [, monthEnd] = monthBounds(now);
  const runsMs = Math.min(monthEnd - now, instance.autoTerminateMinutes ? instance.autoTerminateMinutes * 60_000 : Number.POSITIVE_INFINITY);
  const addsMicros = Math.round((accruingPerHourOnceUp(instance) * runsMs) / 3_600_000);
  const forecastAfterMicros = view.forecastMicros + addsMicros;
  const decision = budgetDecision(client.budget, view.spentMicros, forecastAfterMicros);
  return { view, forecastAfterMicros, decision };
}

/** Refuse a create that the client's budget does not allow, saying by how much. */
export async function checkBudgetForCreate(deps: Pick<ServiceDeps, 'instances'>, client: Client, instance: Instance, now: number): Promise<void> {
  if (!client.budget || client.budget.action === 'notify') return;
  const { view, forecastAfterMicros, decision } = await budgetForCreate(deps, client, instance, now);
  if (decision.allowed) return;
  const limit = client.budget.monthlyLimitMicros;
  const message =
    decision.reason === 'spent'
      ? `Client '${client.name}' is over its monthly budget of $${microsToUnits(limit)} by $${microsToUnits(decision.overMicros)} (spent $${microsToUnits(view.spentMicros)} this month); new instances are blocked`
      : `Client '${client.name}' would pass its monthly budget of $${microsToUnits(limit)} by $${microsToUnits(decision.overMicros)}: spent $${microsToUnits(view.spentMicros)}, forecast $${microsToUnits(forecastAfterMicros)} with this instance`;
  throw new ValidationError(message, [{ path: 'budget.monthlyLimit', message: `over by ${microsToUnits(decision.overMicros)}` }], 'BUDGET_EXCEEDED');
}

/** What the instance will accrue per hour once it is up: compute plus its disk. */
export function accruingPerHourOnceUp(instance: Instance): Micros {
  return accruingPerHour({ ...instance, status: 'READY', billableSince: instance.createdAt });
}

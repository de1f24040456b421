import { monthOf, shouldStopInstances, thresholdsToAnnounce } from '../../domain/budget.ts';
import type { Client } from '../../domain/client.ts';
import { VersionConflictError } from '../../domain/errors.ts';
import { SYSTEM_ACTOR } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { microsToUnits } from '../../domain/money.ts';
import type { ServiceDeps } from '../deps.ts';
import { transition } from '../instance-changes.ts';
import { budgetViewOf } from './client-budget.ts';
import { allInstancesOf } from './client-spend.ts';

const ACTOR = SYSTEM_ACTOR('budget');

export interface BudgetCheck {
  announced: number[];
  stopped: string[];
}

/**
 * Budget thresholds, checked when costs move (an instance comes up) and by the periodic
 * sweeper. A crossed threshold is written as a `client.budget-threshold` event once per
 * threshold per month: the client's `budgetAlerts` is marked first, conditionally on the version
 * read, so two checks racing announce it once. With `stop`, reaching 100% also stops the
 * client's running instances, each with an event saying why. Clients without a budget cost one
 * read; a client with one, a read of its instances.
 */
export function makeBudgetSweep(deps: Pick<ServiceDeps, 'clients' | 'instances' | 'clock' | 'workflows'>) {
  async function checkClient(clientId: string, trigger?: Instance): Promise<BudgetCheck> {
    const none: BudgetCheck = { announced: [], stopped: [] };
    const client = await deps.clients.get(clientId);
    if (!client?.budget) return none;
    const now = deps.clock.now();
    const instances = await allInstancesOf(deps.instances, clientId);
    const view = await budgetViewOf(deps, client, now.getTime(), instances);
    const due = thresholdsToAnnounce(client.budget, view.spentMicros, client.budgetAlerts, now.getTime());
    if (due.length === 0) return none;

    const month = monthOf(now.getTime());
    const already = client.budgetAlerts?.month === month ? client.budgetAlerts.notified : [];
    const after: Client = {
      ...client,
      budgetAlerts: { month, notified: [...already, ...due].sort((a, b) => a - b) },
      updatedAt: now.toISOString(),
      version: client.version + 1,
    };
    try {
      await deps.clients.save(client, after);
    } catch (error) {
      if (error instanceof VersionConflictError) return none; // another check announced it, or the client changed: the next check sees it
      throw error;
    }

    // The event rides an instance's log so it leaves through the one event stream (WebSockets, webhooks, EventBridge).
    const carrier = trigger ?? [...instances].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (carrier) {
      for (const threshold of due) {
        await deps.instances.appendEvent(carrier, {
          type: 'client.budget-threshold',
          actor: ACTOR,
          message: `Client '${client.name}' reached ${threshold}% of its monthly budget of $${microsToUnits(client.budget.monthlyLimitMicros)}: spent $${microsToUnits(view.spentMicros)} in ${month}`,
          at: now.toISOString(),
          data: { threshold, month, spentMicros: view.spentMicros, monthlyLimitMicros: client.budget.monthlyLimitMicros, forecastMicros: view.forecastMicros, action: client.budget.action },
        });
      }
    }

    const stopped: string[] = [];
    if (shouldStopInstances(client.budget, view.spentMicros) && due.some((t) => t >= 100)) {
      // EXTERNAL endpoints are only watched: Hangar cannot stop them.
      for (const instance of instances.filter((i) => (i.status === 'READY' || i.status === 'RUNNING') && i.provider !== 'EXTERNAL')) {
        const change = transition(
          instance,
          'stop',
          now,
          ACTOR,
          `Stopped because client '${client.name}' reached its monthly budget of $${microsToUnits(client.budget.monthlyLimitMicros)} (spent $${microsToUnits(view.spentMicros)}) and its budget action is 'stop'`,
        );
        try {
          await deps.instances.save(instance, change.after, [change.event]);
        } catch (error) {
          if (error instanceof VersionConflictError) continue; // it moved meanwhile; the next check sees it
          throw error;
        }
        await deps.workflows.start('stop', { clientId: instance.clientId, instanceId: instance.id, version: change.after.version });
        stopped.push(instance.id);
      }
    }
    return { announced: due, stopped };
  }

  /** The periodic pass: every client with a budget. */
  async function sweep(): Promise<number> {
    let announced = 0;
    let cursor: string | undefined;
    do {
      const page = await deps.clients.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const client of page.items) if (client.budget) announced += (await checkClient(client.clientId)).announced.length;
      cursor = page.cursor ?? undefined;
    } while (cursor);
    return announced;
  }

  return { checkClient, sweep };
}

export type BudgetSweep = ReturnType<typeof makeBudgetSweep>;

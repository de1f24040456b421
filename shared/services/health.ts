import { SYSTEM_ACTOR } from '../domain/events.ts';
import type { HealthState, Instance } from '../domain/instance.ts';
import { type Principal, requireRole } from '../domain/roles.ts';
import { pageQuerySchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validate.ts';
import type { HealthCheckRecord, Page } from '../ports/instance-repository.ts';
import type { ServiceDeps } from './deps.ts';
import type { InstanceService } from './instances.ts';
import { mutateInstance } from './instance-changes.ts';
import { describeFailure, machineRefOf } from './provisioning.ts';

const ACTOR = SYSTEM_ACTOR('health');
/** Statuses in which a machine should answer; the periodic check looks only at these. */
const CHECKED_STATUSES = ['READY', 'RUNNING'] as const;

/**
 * Health: what the provider says of the machine (LOCAL and EXTERNAL probe it over HTTP or TCP
 * as part of describing it). Every check is kept in the history and sets `health.checkedAt`. A
 * change of health is a change of the instance (a new version, with an event); the same health
 * checked again is a refreshed fact, written at the version read without bumping it, so checks
 * never fail a person's conditional write (If-Match) nor flood the event log.
 */
export function makeHealthService(deps: ServiceDeps, instances: InstanceService) {
  async function verdictOf(instance: Instance): Promise<Omit<HealthCheckRecord, 'checkedAt'>> {
    try {
      if (!instance.providerInstanceId) return { status: 'ERROR', error: 'No machine was ever launched for this instance' };
      const provider = await deps.providers.forInstance(instance);
      const machine = await provider.describe(machineRefOf(instance));
      if (!machine) return { status: 'ERROR', error: 'The provider no longer has this machine' };
      if (machine.state === 'error') return { status: 'ERROR', error: machine.reason ?? 'The provider reports the machine in error' };
      if (machine.state === 'running' && !machine.reason) return { status: 'HEALTHY' };
      return { status: 'UNHEALTHY', error: machine.reason ?? `The machine is ${machine.state}` };
    } catch (error) {
      return { status: 'UNHEALTHY', error: `The health check could not complete: ${describeFailure(error)}` };
    }
  }

  async function check(instance: Instance): Promise<Instance> {
    const verdict = await verdictOf(instance);
    const checkedAt = deps.clock.now().toISOString();
    await deps.instances.recordHealthCheck(instance.id, { checkedAt, ...verdict });
    return mutateInstance(deps, { clientId: instance.clientId, instanceId: instance.id }, (current, now) => {
      const before = current.health?.status ?? 'UNKNOWN';
      const health: HealthState = { status: verdict.status, checkedAt, ...(verdict.error ? { error: verdict.error } : {}) };
      if (before === verdict.status && current.health?.error === verdict.error) {
        // A later check already wrote a newer time: nothing to refresh.
        if ((current.health?.checkedAt ?? '') >= checkedAt) return null;
        return { after: { ...current, health } };
      }
      return {
        after: { ...current, health, updatedAt: now.toISOString(), version: current.version + 1 },
        event: {
          type: 'instance.health-changed',
          actor: ACTOR,
          message: `Health ${before} → ${verdict.status}${verdict.error ? `: ${verdict.error}` : ''}`,
          data: { from: before, to: verdict.status },
        },
      };
    });
  }

  async function checkNow(principal: Principal, id: string): Promise<Instance> {
    requireRole(principal, 'operator', 'check instance health');
    return check(await instances.get(principal, id));
  }

  async function history(principal: Principal, id: string, query: unknown): Promise<Page<HealthCheckRecord>> {
    const page = await parseInput(pageQuerySchema, query, 'query');
    const instance = await instances.get(principal, id);
    return deps.instances.healthChecks(instance.id, page);
  }

  /**
   * Check every up instance, at most `concurrency` at a time; returns how many were checked. The
   * up instances are read a page at a time from the status index, so a pass holds one page
   * however many are up; the next page is read while the last checks of this one finish.
   */
  async function checkAll(concurrency = 8): Promise<number> {
    let total = 0;
    const inFlight = new Set<Promise<void>>();
    for (const status of CHECKED_STATUSES) {
      for await (const page of deps.instances.statusPages(status)) {
        for (const instance of page) {
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
          const running: Promise<void> = check(instance).then(
            () => void inFlight.delete(running),
            () => void inFlight.delete(running),
          );
          inFlight.add(running);
          total++;
        }
      }
    }
    await Promise.all(inFlight);
    return total;
  }

  return { check, checkNow, history, checkAll };
}

export type HealthService = ReturnType<typeof makeHealthService>;

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { Scheduler } from '../../shared/ports/scheduler.ts';
import { deadlineScheduleName } from '../../shared/services/schedule-names.ts';
import { type Automations, DEFAULT_WARNING_MINUTES, warningScheduleName } from '../../shared/services/automations.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { provisionToReady } from '../support/provisioning.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

/** Records schedules instead of firing them: tests fire (or lose) them by hand. */
class RecordingScheduler implements Scheduler {
  readonly schedules = new Map<string, { at: Date; payload: Record<string, string> }>();
  async scheduleOnce(s: { name: string; at: Date; payload: Record<string, string> }) {
    this.schedules.set(s.name, { at: s.at, payload: s.payload });
  }
  async cancel(name: string) {
    this.schedules.delete(name);
  }
}

describe('auto-terminate deadlines', () => {
  let table: TestTable;
  let deps: AppDependencies;
  let automations: Automations;
  const clock = new ManualClock(new Date('2026-06-01T10:00:00.000Z'));
  const scheduler = new RecordingScheduler();
  const workflows = new RecordingWorkflows();

  beforeAll(async () => {
    table = await createTestTable('automations');
    deps = buildAppDependencies({
      db: createDb({ tableName: table.tableName, client: table.client }),
      providers: [new FakeProvider({ name: 'LOCAL' })],
      workflows: () => workflows,
      clock,
      scheduler,
    });
    automations = deps.services.automations!;
  });
  afterAll(async () => deleteTestTable(table));

  /** A READY instance with a 30-minute deadline, provisioned step by step. */
  async function readyInstance(name: string) {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: `${name} Inc` });
    const operator = principalFor(client.clientId, 'operator');
    const created = await deps.services.instances.create(operator, { name, config: { provider: 'LOCAL', autoTerminateMinutes: 30 } });
    const ref = { clientId: created.clientId, instanceId: created.id };
    const ready = await provisionToReady(deps.services.provisioning, ref);
    return { ready, operator, ref };
  }

  it('schedules the deadline when the instance becomes READY and fires exactly at it, once', async () => {
    const { ready, ref } = await readyInstance('deadline-box');
    const schedule = scheduler.schedules.get(deadlineScheduleName(ready.id))!;
    expect(schedule.at.toISOString()).toBe(ready.autoTerminateAt);

    clock.set(new Date(Date.parse(ready.autoTerminateAt!) - 1));
    expect((await automations.terminateIfDue(ref, 'schedule'))!.status).toBe('READY');

    clock.set(ready.autoTerminateAt!);
    const fired = await automations.terminateIfDue(ref, 'schedule');
    expect(fired!.status).toBe('TERMINATING');
    expect(fired!.terminatedBy).toBe('system:auto-terminate');
    const again = await automations.terminateIfDue(ref, 'schedule');
    expect(again!.version).toBe(fired!.version);
    const events = (await deps.instances.events(ready.id, { limit: 100 })).items.filter((e) => e.type === 'instance.auto-terminated');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ costMicros: fired!.accruedCostMicros, via: 'schedule' });
    expect(workflows.calls.filter((c) => c.ref.instanceId === ready.id && c.workflow === 'terminate')).toHaveLength(1);
  });

  it('an extend that races the firing wins: the old schedule fires into a deadline not yet due', async () => {
    const { ready, operator, ref } = await readyInstance('extended-box');
    clock.set(ready.autoTerminateAt!);
    const extended = await deps.services.instances.act(operator, ready.id, 'extend', { minutes: 30 });
    expect(scheduler.schedules.get(deadlineScheduleName(ready.id))!.at.toISOString()).toBe(extended.autoTerminateAt);
    expect((await automations.terminateIfDue(ref, 'schedule'))!.status).toBe('READY');
  });

  it('a terminate cancels the schedule, and a late firing never resurrects or terminates twice', async () => {
    const { ready, operator, ref } = await readyInstance('terminated-box');
    const terminating = await deps.services.instances.terminate(operator, ready.id);
    expect(scheduler.schedules.has(deadlineScheduleName(ready.id))).toBe(false);
    clock.set(new Date(Date.parse(ready.autoTerminateAt!) + 60_000));
    const late = await automations.terminateIfDue(ref, 'schedule');
    expect(late!.status).toBe('TERMINATING');
    expect(late!.version).toBe(terminating.version);
  });

  it('writes the warning at once for the 5-minute minimum, whose deadline starts inside the window', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Short Deadline Inc' });
    const operator = principalFor(client.clientId, 'operator');
    const created = await deps.services.instances.create(operator, { name: 'short-box', config: { provider: 'LOCAL', autoTerminateMinutes: 5 } });
    const ready = await provisionToReady(deps.services.provisioning, { clientId: created.clientId, instanceId: created.id });

    const warned = (await deps.instances.events(ready.id, { limit: 100 })).items.filter((e) => e.type === 'instance.auto-terminate-warning');
    expect(warned).toHaveLength(1);
    expect(scheduler.schedules.has(warningScheduleName(ready.id))).toBe(false);
    expect(scheduler.schedules.get(deadlineScheduleName(ready.id))!.at.toISOString()).toBe(ready.autoTerminateAt);
  });

  it('warns ahead of the deadline, and a warning made stale by an extend says nothing', async () => {
    const { ready, operator, ref } = await readyInstance('warned-box');
    const warning = scheduler.schedules.get(warningScheduleName(ready.id))!;
    expect(warning.at.getTime()).toBe(Date.parse(ready.autoTerminateAt!) - DEFAULT_WARNING_MINUTES * 60_000);
    clock.set(warning.at);
    await automations.onSchedule(warning.payload as never);
    const warned = (await deps.instances.events(ready.id, { limit: 100 })).items.filter((e) => e.type === 'instance.auto-terminate-warning');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toContain(`in ${DEFAULT_WARNING_MINUTES} minutes`);

    await deps.services.instances.act(operator, ref.instanceId, 'extend', { minutes: 20 });
    await automations.onSchedule(warning.payload as never);
    const after = (await deps.instances.events(ready.id, { limit: 100 })).items.filter((e) => e.type === 'instance.auto-terminate-warning');
    expect(after).toHaveLength(1);
  });

  it('stops an instance that stayed READY with no task for its idleStopMinutes, and says why', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Idle Inc' });
    const operator = principalFor(client.clientId, 'operator');
    const created = await deps.services.instances.create(operator, { name: 'idle-box', config: { provider: 'LOCAL', idleStopMinutes: 10 } });
    const ref = { clientId: created.clientId, instanceId: created.id };
    const ready = await provisionToReady(deps.services.provisioning, ref);
    expect(ready.idleSince).toBe(clock.now().toISOString());

    // A task resets the idle clock: RUNNING is not idle, and READY again starts a new period.
    clock.advance(8 * 60_000);
    await deps.services.instances.act(operator, ready.id, 'startTask', { taskId: 'job-1' });
    clock.advance(5 * 60_000);
    const idleAgain = await deps.services.instances.act(operator, ready.id, 'finishTask', {});
    clock.advance(9 * 60_000);
    expect(await automations.stopIdle()).toBe(0);
    clock.set(new Date(Date.parse(idleAgain.idleSince!) + 10 * 60_000));
    expect(await automations.stopIdle()).toBe(1);
    const stopped = await deps.instances.get(ready.clientId, ready.id);
    expect(stopped!.status).toBe('STOPPING');
    const event = (await deps.instances.events(ready.id, { limit: 100 })).items.at(-1)!;
    expect(event).toMatchObject({ toStatus: 'STOPPING', actor: 'system:idle-stop' });
    expect(event.message).toMatch(/10 minutes idle/);
    expect(workflows.calls.filter((c) => c.ref.instanceId === ready.id && c.workflow === 'stop')).toHaveLength(1);
  });

  it('the sweeper terminates an instance whose schedule was lost, and says so', async () => {
    const { ready } = await readyInstance('lost-schedule-box');
    scheduler.schedules.delete(deadlineScheduleName(ready.id));
    clock.set(new Date(Date.parse(ready.autoTerminateAt!) + 5 * 60_000));
    expect(await automations.sweep()).toBeGreaterThanOrEqual(1);
    const swept = await deps.instances.get(ready.clientId, ready.id);
    expect(swept!.status).toBe('TERMINATING');
    const event = (await deps.instances.events(ready.id, { limit: 100 })).items.find((e) => e.type === 'instance.auto-terminated');
    expect(event!.message).toMatch(/sweeper/);
    expect(event!.data).toMatchObject({ via: 'sweeper' });
  });
});

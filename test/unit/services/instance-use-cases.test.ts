import { describe, expect, it } from 'vitest';
import { QuotaExceededError, ValidationError } from '../../../shared/domain/errors.ts';
import { deadlineScheduleName } from '../../../shared/services/schedule-names.ts';
import { warningScheduleName } from '../../../shared/services/automations.ts';
import { MINUTE } from '../domain/fixtures.ts';
import { useCaseHarness } from './harness.ts';

describe('createInstance', () => {
  it('records a PENDING instance with its event and starts the provisioning workflow', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Create Co');
    const created = await h.instances.create(operator, { name: 'web server', config: { provider: 'LOCAL', instanceType: 'local.small', tags: { team: 'a' } } });
    expect(created).toMatchObject({ status: 'PENDING', name: 'web server', instanceType: 'local.small', region: 'local', tags: { team: 'a' }, version: 1 });
    expect(created.id).toMatch(/^vps-web-server-[a-z0-9]{6}$/);
    expect(await h.repos.instances.get(created.clientId, created.id)).toEqual(created);
    expect((await h.eventsOf(created.id)).map((e) => e.type)).toEqual(['instance.created']);
    expect(h.workflows.calls).toEqual([expect.objectContaining({ workflow: 'provision', ref: { clientId: created.clientId, instanceId: created.id } })]);
  });

  it('refuses before writing anything: bad body, unknown region, more minutes than the client allows, a suspended client', async () => {
    const h = useCaseHarness();
    const { client, operator } = await h.clientWith('Strict Co', { maxAutoTerminateMinutes: 30 });
    await expect(h.instances.create(operator, { name: 'x', config: { diskSizeGB: 10 } })).rejects.toThrow(/at least 30 GB/);
    await expect(h.instances.create(operator, { name: 'x', config: { region: 'eu-west-1' } })).rejects.toThrow("Unknown region 'eu-west-1' for LOCAL");
    await expect(h.instances.create(operator, { name: 'x', config: { autoTerminateMinutes: 31 } })).rejects.toThrow('autoTerminateMinutes must be at most 30 for this client');
    await h.clients.update({ keyId: 'key-platform', role: 'platform-admin', clientId: null }, client.clientId, { status: 'suspended' });
    await expect(h.instances.create(operator, { name: 'x' })).rejects.toBeInstanceOf(ValidationError);
    expect((await h.repos.instances.counters({ clientId: client.clientId })).live).toBe(0);
    expect(h.workflows.calls).toHaveLength(0);
  });

  it('refuses a create over the quota once, with the numbers and the client name, and frees the place on terminate', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Quota Co', { maxInstances: 2 });
    const first = await h.instances.create(operator, { name: 'one' });
    await h.instances.create(operator, { name: 'two' });
    const refusal = await h.instances.create(operator, { name: 'three' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(QuotaExceededError);
    expect((refusal as QuotaExceededError).message).toBe("Client 'Quota Co' already has 2 of its 2 instances; terminate one or raise maxInstances");

    await h.instances.terminate(operator, first.id);
    await h.steps.confirmTerminated({ clientId: first.clientId, instanceId: first.id });
    expect((await h.instances.create(operator, { name: 'three' })).status).toBe('PENDING');
  });
});

describe('lifecycle actions', () => {
  it('stop, start, reboot and tasks follow the transition table and start their workflows', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Life Co');
    const ready = await h.readyInstance(operator, { name: 'box' });
    const running = await h.instances.act(operator, ready.id, 'startTask', { taskId: 'job-1' });
    expect(running).toMatchObject({ status: 'RUNNING', taskId: 'job-1' });
    await expect(h.instances.act(operator, ready.id, 'start', {})).rejects.toThrow(/RUNNING/);
    expect((await h.instances.act(operator, ready.id, 'finishTask', {})).status).toBe('READY');
    const stopping = await h.instances.act(operator, ready.id, 'kill', {});
    expect(stopping.status).toBe('STOPPING');
    expect(h.workflows.callsFor(ready.id).at(-1)).toMatchObject({ workflow: 'stop', options: { force: true } });
  });

  it("another client's key gets a 404, and its instance is untouched", async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Owner Co');
    const { operator: stranger } = await h.clientWith('Other Co');
    const created = await h.instances.create(operator, { name: 'mine' });
    await expect(h.instances.act(stranger, created.id, 'stop', {})).rejects.toThrow(/not found/i);
    expect((await h.repos.instances.findById(created.id))!.version).toBe(created.version);
  });
});

describe('deadlines', () => {
  it('READY fixes the deadline and schedules it with its warning; extend moves both within the maximum', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Deadline Co', { maxAutoTerminateMinutes: 60 });
    const ready = await h.readyInstance(operator, { name: 'timed', config: { autoTerminateMinutes: 30 } });
    const deadline = h.clock.now().getTime() + 30 * MINUTE;
    expect(ready.autoTerminateAt).toBe(new Date(deadline).toISOString());
    expect(h.scheduler.schedules.get(deadlineScheduleName(ready.id))!.at.getTime()).toBe(deadline);
    expect(h.scheduler.schedules.get(warningScheduleName(ready.id))!.at.getTime()).toBe(deadline - 5 * MINUTE);

    const extended = await h.instances.act(operator, ready.id, 'extend', { minutes: 20 });
    expect(extended.autoTerminateAt).toBe(new Date(deadline + 20 * MINUTE).toISOString());
    expect(h.scheduler.schedules.get(deadlineScheduleName(ready.id))!.at.toISOString()).toBe(extended.autoTerminateAt);
    await expect(h.instances.act(operator, ready.id, 'extend', { minutes: 20 })).rejects.toThrow('extending by 20 would make it 70');

    h.clock.set(extended.autoTerminateAt!);
    const fired = await h.automations.terminateIfDue({ clientId: ready.clientId, instanceId: ready.id }, 'schedule');
    expect(fired).toMatchObject({ status: 'TERMINATING', terminatedBy: 'system:auto-terminate' });
    expect(h.scheduler.schedules.has(deadlineScheduleName(ready.id))).toBe(true);
  });

  it('a deadline that starts inside the warning window is warned of at once, once', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Short Co');
    const ready = await h.readyInstance(operator, { name: 'short', config: { autoTerminateMinutes: 5 } });
    expect(h.scheduler.schedules.has(warningScheduleName(ready.id))).toBe(false);
    const warnings = (await h.eventsOf(ready.id)).filter((e) => e.type === 'instance.auto-terminate-warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('in 5 minutes');
    // Activating again (a retried step) does not warn twice.
    await h.steps.activate({ clientId: ready.clientId, instanceId: ready.id });
    expect((await h.eventsOf(ready.id)).filter((e) => e.type === 'instance.auto-terminate-warning')).toHaveLength(1);
  });

  it('idle stop stops a READY instance idle for its minutes, not one running a task', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Idle Co');
    const idle = await h.readyInstance(operator, { name: 'idle', config: { idleStopMinutes: 10 } });
    const busy = await h.readyInstance(operator, { name: 'busy', config: { idleStopMinutes: 10 } });
    await h.instances.act(operator, busy.id, 'startTask', { taskId: 't' });
    h.clock.advance(10 * MINUTE);
    expect(await h.automations.stopIdle()).toBe(1);
    expect((await h.repos.instances.findById(idle.id))!.status).toBe('STOPPING');
    expect((await h.repos.instances.findById(busy.id))!.status).toBe('RUNNING');
  });
});

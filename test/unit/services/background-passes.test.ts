/**
 * The sweeper and the health checks on the in-memory repositories: they act on what is due (the
 * repository's due entries), decide again on each instance, and walk many instances a page at a
 * time; one instance that cannot be acted on does not hold back the others.
 */
import { describe, expect, it } from 'vitest';
import { makeHealthService } from '../../../shared/services/health.ts';
import type { Instance } from '../../../shared/domain/instance.ts';
import { useCaseHarness } from './harness.ts';

const MINUTE = 60_000;

describe('background passes', () => {
  it('the sweeper terminates every instance past its deadline across clients and pages, and no other', async () => {
    const h = useCaseHarness();
    const due: Instance[] = [];
    const later: Instance[] = [];
    for (let c = 0; c < 3; c++) {
      const { operator } = await h.clientWith(`Sweep ${c}`, { maxInstances: 100 });
      for (let i = 0; i < 45; i++) due.push(await h.readyInstance(operator, { name: `due-${c}-${i}`, config: { autoTerminateMinutes: 10 } }));
      h.clock.advance(MINUTE);
      later.push(await h.readyInstance(operator, { name: `later-${c}`, config: { autoTerminateMinutes: 60 } }));
    }
    // The schedules were lost: only the sweeper is left to act.
    h.clock.advance(10 * MINUTE);
    expect(await h.automations.sweep()).toBe(due.length);
    for (const instance of due) expect((await h.repos.instances.get(instance.clientId, instance.id))!.status).toBe('TERMINATING');
    for (const instance of later) expect((await h.repos.instances.get(instance.clientId, instance.id))!.status).toBe('READY');
    expect(h.workflows.calls.filter((c) => c.workflow === 'terminate')).toHaveLength(due.length);
    // A second pass finds nothing left to do.
    expect(await h.automations.sweep()).toBe(0);
  });

  it('an instance whose write keeps failing is reported after the pass, which still terminates the rest', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Stubborn Co', { maxInstances: 50 });
    const instances = [];
    for (let i = 0; i < 12; i++) instances.push(await h.readyInstance(operator, { name: `box-${i}`, config: { autoTerminateMinutes: 10 } }));
    const stubborn = instances[0]!;
    const save = h.repos.instances.save.bind(h.repos.instances);
    h.repos.instances.save = async (before, after, events) => {
      if (after.id === stubborn.id) throw new Error('the table refused the write');
      return save(before, after, events);
    };
    h.clock.advance(10 * MINUTE);
    await expect(h.automations.sweep()).rejects.toThrow('the table refused the write');
    const statuses = await Promise.all(instances.map(async (i) => (await h.repos.instances.get(i.clientId, i.id))!.status));
    expect(statuses.filter((s) => s === 'TERMINATING')).toHaveLength(11);
    expect(statuses[0]).toBe('READY');
  });

  it('health checks reach every up instance beyond one page, and no other', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Checked Co', { maxInstances: 200 });
    const up: Instance[] = [];
    for (let i = 0; i < 130; i++) up.push(await h.readyInstance(operator, { name: `up-${i}` }));
    await h.instances.act(operator, up[0]!.id, 'startTask', { taskId: 't' });
    await h.instances.act(operator, up[1]!.id, 'stop', {});
    const health = makeHealthService(h.deps, h.instances);
    h.clock.advance(MINUTE);
    const now = h.clock.now().toISOString();
    expect(await health.checkAll(4)).toBe(129);
    const checked = await Promise.all(up.map(async (i) => (await h.repos.instances.get(i.clientId, i.id))!.health?.checkedAt === now));
    expect(checked.filter(Boolean)).toHaveLength(129);
    expect(checked[1]).toBe(false);
  });
});

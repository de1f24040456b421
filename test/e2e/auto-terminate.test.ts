import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, isAlive, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/**
 * Deadlines with a development-time minute (HANGAR_DEADLINE_MINUTE_MS = 400 ms): 5 "minutes"
 * pass in 2 s, so the scheduler can be watched terminating an instance on its own.
 */
describe('auto-terminate on the local runtime', () => {
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ env: { HANGAR_DEADLINE_MINUTE_MS: '400', HANGAR_WORKFLOW_WAIT_MS: '100' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'Deadline Co' });
    const key = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'ops', role: 'operator' });
    api = apiClient(runtime.url, key.body.apiKey.key);
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  const status = async (id: string) => (await api('GET', `/api/instances/${id}`)).body.instance;

  it('terminates an instance at its deadline by itself, recording the final cost', async () => {
    const created = await api('POST', '/api/instances', { name: 'short-lived', config: { provider: 'LOCAL', autoTerminateMinutes: 5 } });
    const ready = await waitFor('READY', async () => ((await status(created.body.instance.id)).status === 'READY' ? status(created.body.instance.id) : undefined));
    const deadline = Date.parse(ready.autoTerminateAt);
    const terminated = await waitFor('auto-termination', async () => {
      const instance = await status(ready.id);
      return instance.status === 'TERMINATED' ? instance : undefined;
    });
    expect(Date.parse(terminated.terminatedAt)).toBeGreaterThanOrEqual(deadline);
    expect(Date.parse(terminated.terminatedAt) - deadline).toBeLessThan(5_000);
    expect(isAlive(ready.providerDetails.pid)).toBe(false);
    const events = (await api('GET', `/api/instances/${ready.id}/events?limit=100`)).body.events;
    const auto = events.find((e: { type: string }) => e.type === 'instance.auto-terminated');
    expect(auto.data.costMicros).toEqual(expect.any(Number));
    expect(terminated.terminatedBy).toBe('system:auto-terminate');
  });

  it('moves the deadline on extend, and never fires for an instance terminated first', async () => {
    const a = (await api('POST', '/api/instances', { name: 'extended', config: { provider: 'LOCAL', autoTerminateMinutes: 5 } })).body.instance;
    const b = (await api('POST', '/api/instances', { name: 'terminated-early', config: { provider: 'LOCAL', autoTerminateMinutes: 5 } })).body.instance;
    await waitFor('both READY', async () => ((await status(a.id)).status === 'READY' && (await status(b.id)).status === 'READY' ? true : undefined));
    const firstDeadline = Date.parse((await status(a.id)).autoTerminateAt);
    const extended = await api('POST', `/api/instances/${a.id}/extend`, { minutes: 10 });
    expect(extended.status).toBe(200);
    const newDeadline = Date.parse(extended.body.instance.autoTerminateAt);
    expect((await api('DELETE', `/api/instances/${b.id}`)).status).toBe(202);

    // Past the first deadline, the extended instance is still up; then it goes at the new one.
    await new Promise((r) => setTimeout(r, Math.max(0, firstDeadline + 800 - Date.now())));
    expect((await status(a.id)).status).toBe('READY');
    const gone = await waitFor('extended instance to go', async () => ((await status(a.id)).status === 'TERMINATED' ? status(a.id) : undefined), 30_000);
    expect(Date.parse(gone.terminatedAt)).toBeGreaterThanOrEqual(newDeadline);
    const bEvents = (await api('GET', `/api/instances/${b.id}/events?limit=100`)).body.events;
    expect(bEvents.filter((e: { type: string }) => e.type === 'instance.auto-terminated')).toEqual([]);
  });
});

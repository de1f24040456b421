import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, isAlive, portAnswers, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

/**
 * Drives `npm start`'s runtime from outside, as a user with curl would: DESIGN's steps 1–7,
 * a machine that dies on its own, and a restart of the runtime.
 */
describe('the local runtime over HTTP', () => {
  let runtime: RuntimeProcess;
  let admin: ReturnType<typeof apiClient>;
  let operator: ReturnType<typeof apiClient>;
  let viewer: ReturnType<typeof apiClient>;
  let stranger: ReturnType<typeof apiClient>;
  let clientId: string;

  const createBody = (name: string) => ({
    name,
    type: 'vps',
    resources: { cpu: 1, memory: 1 },
    config: { provider: 'LOCAL', autoTerminateMinutes: 60, diskSizeGB: 30 },
  });

  async function untilStatus(api: ReturnType<typeof apiClient>, id: string, statuses: string[]) {
    return waitFor(`${id} to reach ${statuses.join('/')}`, async () => {
      const { body } = await api('GET', `/api/instances/${id}`);
      return statuses.includes(body.instance?.status) ? body.instance : undefined;
    });
  }

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ env: { HANGAR_SAMPLE_INTERVAL_MS: '300' } });
    admin = apiClient(runtime.url, runtime.adminKey);

    // 1. a client and keys for it
    const client = await admin('POST', '/api/clients', { name: 'Tech Solutions Inc' });
    expect(client.status).toBe(201);
    clientId = client.body.client.id;
    const key = async (cid: string, role: string) => {
      const issued = await admin('POST', `/api/clients/${cid}/api-keys`, { name: `${role} key`, role });
      expect(issued.status).toBe(201);
      expect(issued.body.apiKey.key).toMatch(/^hgr_/);
      return apiClient(runtime.url, issued.body.apiKey.key);
    };
    operator = await key(clientId, 'operator');
    viewer = await key(clientId, 'viewer');
    const other = await admin('POST', '/api/clients', { name: 'Another Business' });
    stranger = await key(other.body.client.id, 'admin');
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('serves liveness without a key and prints where it runs', async () => {
    const health = await apiClient(runtime.url)('GET', '/api/health');
    expect(health).toMatchObject({ status: 200, body: { success: true, status: 'ok' } });
    expect(runtime.output()).toContain('Platform admin key:');
  });

  it('provisions a real process, keeps its history and cost, and terminates it (steps 2–5)', async () => {
    const created = await operator('POST', '/api/instances', createBody('web-server'), { 'idempotency-key': 'create-web-1' });
    expect(created.status).toBe(202);
    const id: string = created.body.instance.id;
    expect(id).toMatch(/^vps-web-server-[a-z0-9]{6}$/);
    expect(['PENDING', 'PROVISIONING']).toContain(created.body.instance.status);

    // 7. the same key and body replays; another body with the key is a conflict
    const replay = await operator('POST', '/api/instances', createBody('web-server'), { 'idempotency-key': 'create-web-1' });
    expect(replay.body.instance.id).toBe(id);
    const misuse = await operator('POST', '/api/instances', createBody('other'), { 'idempotency-key': 'create-web-1' });
    expect(misuse).toMatchObject({ status: 409, body: { success: false, code: 'IDEMPOTENCY_KEY_REUSED' } });

    // 3. READY with a real process listening on its port
    const ready = await untilStatus(operator, id, ['READY']);
    expect(ready.port).toBeGreaterThan(0);
    const pid: number = ready.providerDetails.pid;
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(ready.providerDetails.dataDir)).toBe(true);
    expect(await portAnswers(ready.port)).toBe(true);
    expect(ready.autoTerminateAt).not.toBeNull();
    const samples = await waitFor('a cpu/memory sample', async () => {
      const { body } = await operator('GET', `/api/instances/${id}/metrics`);
      return body.metrics?.length ? body.metrics : undefined;
    });
    expect(samples[0]).toMatchObject({ cpuPercent: expect.any(Number), memoryBytes: expect.any(Number) });

    // 4. list, filters, live cost, events, statistics
    const list = await viewer('GET', '/api/instances?status=READY&provider=LOCAL&type=vps&limit=500');
    expect(list.status).toBe(200);
    expect(list.body.instances.map((i: { id: string }) => i.id)).toContain(id);
    expect(list.body.count).toBe(list.body.instances.length);
    const none = await viewer('GET', '/api/instances?status=STOPPED');
    expect(none.body.instances).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
    const got = await viewer('GET', `/api/instances/${id}`);
    expect(got.body.instance.costPerHour).toBe(0.01);
    expect(got.body.instance.totalCostMicros).toBeGreaterThan(0);
    const events = await viewer('GET', `/api/instances/${id}/events`);
    expect(events.body.events.map((e: { toStatus?: string }) => e.toStatus).filter(Boolean)).toEqual([
      'PENDING',
      'PROVISIONING',
      'CONFIGURING',
      'READY',
    ]);
    const stats = await viewer('GET', '/api/instances/stats');
    expect(stats.body.statistics).toMatchObject({ totalProvisioned: 1, currentlyRunning: 1, providerBreakdown: { LOCAL: 1 } });

    // health: probed now over HTTP, kept in a history
    const checked = await operator('POST', `/api/instances/${id}/health-check`);
    expect(checked.body.health).toMatchObject({ status: 'HEALTHY' });
    const history = await viewer('GET', `/api/instances/${id}/health`);
    expect(history.body.health[0]).toMatchObject({ status: 'HEALTHY' });

    // 5. delete: the process is gone, the port closed, the record final
    const deleted = await operator('DELETE', `/api/instances/${id}`);
    expect(deleted).toMatchObject({ status: 202, body: { instance: { status: 'TERMINATING' } } });
    const terminated = await untilStatus(viewer, id, ['TERMINATED']);
    expect(terminated.terminatedAt).not.toBeNull();
    expect(terminated.totalCostMicros).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
    expect(await portAnswers(ready.port)).toBe(false);
    const after = await viewer('GET', '/api/instances/stats');
    expect(after.body.statistics).toMatchObject({ totalProvisioned: 1, currentlyRunning: 0, live: 0, finishedCount: 1 });
    expect(after.body.statistics.totalCostMicros).toBe(terminated.totalCostMicros);
  });

  it('answers bad requests with the error contract (step 6)', async () => {
    const anonymous = apiClient(runtime.url);
    const expectError = async (call: Promise<{ status: number; body: any }>, status: number, code: string, mentions?: string) => {
      const { status: actual, body } = await call;
      expect({ status: actual, success: body.success, code: body.code }).toEqual({ status, success: false, code });
      expect(body.error).toEqual(expect.any(String));
      expect(Array.isArray(body.details)).toBe(true);
      expect(JSON.stringify(body)).not.toMatch(/at .+\.ts:\d+/);
      if (mentions) expect(body.error + JSON.stringify(body.details)).toContain(mentions);
    };
    await expectError(anonymous('GET', '/api/instances'), 401, 'UNAUTHORIZED');
    await expectError(apiClient(runtime.url, 'hgr_not-a-key')('GET', '/api/instances'), 401, 'UNAUTHORIZED');
    await expectError(viewer('POST', '/api/instances', createBody('nope')), 403, 'FORBIDDEN');
    await expectError(operator('POST', '/api/instances', { ...createBody('small'), config: { provider: 'LOCAL', diskSizeGB: 10 } }), 400, 'VALIDATION_ERROR', '30 GB');
    await expectError(operator('POST', '/api/instances', { ...createBody('long'), config: { provider: 'LOCAL', autoTerminateMinutes: 200 } }), 400, 'VALIDATION_ERROR', '120');
    await expectError(operator('POST', '/api/instances', { ...createBody('short'), config: { provider: 'LOCAL', autoTerminateMinutes: 4 } }), 400, 'VALIDATION_ERROR', '5');
    // A create without a name is named from its type (the provisioner's shape); an empty one says what to send.
    await expectError(operator('POST', '/api/instances', {}), 400, 'BODY_REQUIRED', 'config.provider');
    await expectError(operator('POST', '/api/instances', { name: '!!!' }), 400, 'VALIDATION_ERROR', 'letters or digits');
    await expectError(operator('POST', '/api/instances', { name: 'x', config: { provider: 'NIMBUS' } }), 400, 'VALIDATION_ERROR', 'NIMBUS');
    await expectError(operator('POST', '/api/instances', '{"name": "web'), 400, 'MALFORMED_JSON');

    // another client's instance is a 404 on read, delete and events — never a 403
    const mine = await operator('POST', '/api/instances', createBody('private-box'));
    const id = mine.body.instance.id;
    await expectError(stranger('GET', `/api/instances/${id}`), 404, 'NOT_FOUND');
    await expectError(stranger('DELETE', `/api/instances/${id}`), 404, 'NOT_FOUND');
    await expectError(stranger('GET', `/api/instances/${id}/events`), 404, 'NOT_FOUND');
    await untilStatus(operator, id, ['READY']);
    await operator('DELETE', `/api/instances/${id}`);
    await untilStatus(operator, id, ['TERMINATED']);
  });

  it('shows a machine that died on its own as ERROR, never READY', async () => {
    const created = await operator('POST', '/api/instances', createBody('fragile'));
    const ready = await untilStatus(operator, created.body.instance.id, ['READY']);
    process.kill(ready.providerDetails.pid, 'SIGKILL');
    const failed = await untilStatus(operator, ready.id, ['ERROR']);
    expect(failed.errorMessage).toMatch(/stopped on its own/);
    await operator('DELETE', `/api/instances/${ready.id}`);
    await untilStatus(operator, ready.id, ['TERMINATED']);
  });

  it('stops its machines on shutdown and brings them back on the next start', async () => {
    const created = await operator('POST', '/api/instances', createBody('survivor'));
    const before = await untilStatus(operator, created.body.instance.id, ['READY']);
    const oldPid: number = before.providerDetails.pid;

    expect(await runtime.stop()).toBe(0);
    expect(isAlive(oldPid)).toBe(false);

    runtime = await startRuntimeProcess({ home: runtime.home, adminKey: runtime.adminKey });
    const adminAgain = apiClient(runtime.url, runtime.adminKey);
    const back = await waitFor('the instance to be READY again', async () => {
      const { body } = await adminAgain('GET', `/api/instances/${before.id}`);
      return body.instance?.status === 'READY' && body.instance.providerDetails.pid !== oldPid ? body.instance : undefined;
    });
    expect(isAlive(back.providerDetails.pid)).toBe(true);
    expect(await portAnswers(back.port)).toBe(true);
    const events = await adminAgain('GET', `/api/instances/${before.id}/events`);
    const statuses = events.body.events.map((e: { toStatus?: string }) => e.toStatus).filter(Boolean);
    expect(statuses.slice(-4)).toEqual(['STOPPING', 'STOPPED', 'STARTING', 'READY']);
    await adminAgain('DELETE', `/api/instances/${before.id}`);
    await waitFor('termination', async () => {
      const { body } = await adminAgain('GET', `/api/instances/${before.id}`);
      return body.instance?.status === 'TERMINATED' ? true : undefined;
    });
  }, 180_000);
});

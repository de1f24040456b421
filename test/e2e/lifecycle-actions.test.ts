import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, isAlive, portAnswers, REPO_ROOT, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

const run = promisify(execFile);

/** Every action through the workflows, as a client sees it over HTTP and through the CLI. */
describe('lifecycle actions on the local runtime', () => {
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;
  let key: string;

  async function until(id: string, status: string) {
    return waitFor(`${id} to be ${status}`, async () => {
      const { body } = await api('GET', `/api/instances/${id}`);
      if (body.instance?.status === 'ERROR') throw new Error(`went to ERROR: ${body.instance.errorMessage}`);
      return body.instance?.status === status ? body.instance : undefined;
    });
  }

  async function readyInstance(name: string) {
    const created = await api('POST', '/api/instances', { name });
    return until(created.body.instance.id, 'READY');
  }

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'Actions Inc' });
    const issued = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'ops', role: 'operator' });
    key = issued.body.apiKey.key;
    api = apiClient(runtime.url, key);
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('stops, starts, reboots, runs a task and terminates over HTTP', async () => {
    const ready = await readyInstance('actions-http');
    const id = ready.id;

    const stopping = await api('POST', `/api/instances/${id}/stop`, undefined, { 'idempotency-key': `stop-${id}` });
    expect(stopping).toMatchObject({ status: 202, body: { instance: { status: 'STOPPING' } } });
    await until(id, 'STOPPED');
    expect(isAlive(ready.providerDetails.pid)).toBe(false);
    expect(await portAnswers(ready.port)).toBe(false);

    // the same key and body replays the first answer instead of acting again
    const replay = await api('POST', `/api/instances/${id}/stop`, undefined, { 'idempotency-key': `stop-${id}` });
    expect(replay).toMatchObject({ status: 202, body: { instance: { status: 'STOPPING' } } });
    // a forbidden action is a 422 that names the current status
    const again = await api('POST', `/api/instances/${id}/stop`);
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    expect(again.body.error).toContain('STOPPED');

    expect((await api('POST', `/api/instances/${id}/start`)).status).toBe(202);
    const started = await until(id, 'READY');
    expect(started.providerDetails.pid).not.toBe(ready.providerDetails.pid);
    expect(await portAnswers(started.port)).toBe(true);

    expect((await api('POST', `/api/instances/${id}/reboot`, { hard: true })).body.instance.status).toBe('REBOOTING');
    const rebooted = await until(id, 'READY');
    expect(rebooted.providerDetails.pid).not.toBe(started.providerDetails.pid);
    expect((await api('POST', `/api/instances/${id}/restart`)).status).toBe(202);
    await until(id, 'READY');

    const running = await api('POST', `/api/instances/${id}/task`, { taskId: 'task-456' });
    expect(running).toMatchObject({ status: 200, body: { instance: { status: 'RUNNING', taskId: 'task-456' } } });
    const idle = await api('DELETE', `/api/instances/${id}/task`);
    expect(idle).toMatchObject({ status: 200, body: { instance: { status: 'READY', taskId: null } } });

    const extended = await api('POST', `/api/instances/${id}/extend`, { minutes: 30 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.instance.autoTerminateAt)).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect((await api('POST', `/api/instances/${id}/extend`, { minutes: 500 })).status).toBe(400);

    expect((await api('POST', `/api/instances/${id}/kill`)).status).toBe(202);
    await until(id, 'STOPPED');
    expect((await api('DELETE', `/api/instances/${id}`)).status).toBe(202);
    const terminated = await until(id, 'TERMINATED');
    expect(terminated.terminatedBy).toMatch(/^key:/);

    const events = await api('GET', `/api/instances/${id}/events?limit=100`);
    const path = events.body.events.map((e: { toStatus?: string }) => e.toStatus).filter(Boolean);
    expect(path).toEqual([
      'PENDING', 'PROVISIONING', 'CONFIGURING', 'READY',
      'STOPPING', 'STOPPED', 'STARTING', 'READY',
      'REBOOTING', 'READY', 'REBOOTING', 'READY',
      'RUNNING', 'READY', 'READY',
      'STOPPING', 'STOPPED', 'TERMINATING', 'TERMINATED',
    ]);
  });

  it('registers an EXTERNAL endpoint, watches it, refuses to manage it, and forgets it on terminate', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const refused = await api('POST', '/api/instances', { name: 'nowhere', type: 'endpoint', config: { provider: 'EXTERNAL' } });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/endpoint/);

      const created = await api('POST', '/api/instances', {
        name: 'partner-api',
        type: 'endpoint',
        config: { provider: 'EXTERNAL', endpoint: `http://127.0.0.1:${port}`, healthPath: '/healthz' },
      });
      expect(created.status).toBe(202);
      const ready = await until(created.body.instance.id, 'READY');
      expect(ready.port).toBe(port);

      const stop = await api('POST', `/api/instances/${ready.id}/stop`);
      expect(stop).toMatchObject({ status: 422, body: { code: 'NOT_MANAGED' } });

      expect((await api('DELETE', `/api/instances/${ready.id}`)).status).toBe(202);
      await until(ready.id, 'TERMINATED');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('does the same through the CLI with --wait', async () => {
    const ready = await readyInstance('actions-cli');
    const env = { ...process.env, HANGAR_URL: runtime.url, HANGAR_API_KEY: key };
    const hangar = async (...args: string[]) => {
      const { stdout } = await run(process.execPath, ['cli/bin.js', ...args], { cwd: REPO_ROOT, env, timeout: 60_000 });
      return stdout;
    };
    expect(JSON.parse(await hangar('stop', 'instance', ready.id, '--wait', '--json')).instance.status).toBe('STOPPED');
    expect(JSON.parse(await hangar('start', 'instance', ready.id, '--wait', '--json')).instance.status).toBe('READY');
    expect(JSON.parse(await hangar('reboot', 'instance', ready.id, '--wait', '--json')).instance.status).toBe('READY');
    expect(await hangar('task', 'start', ready.id, 'task-9')).toContain('RUNNING');
    expect(await hangar('task', 'finish', ready.id)).toContain('READY');
    const progress = await hangar('terminate', 'instance', ready.id, '--wait');
    expect(progress).toContain('TERMINATED');
    const final = await api('GET', `/api/instances/${ready.id}`);
    expect(final.body.instance.status).toBe('TERMINATED');
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, isAlive, portAnswers, REPO_ROOT, type RuntimeProcess, startRuntimeProcess } from '../support/local-runtime.ts';

const run = promisify(execFile);

/** The same walk as a person at a terminal: the real `hangar` binary against the real runtime. */
describe('the hangar CLI against the local runtime', () => {
  let runtime: RuntimeProcess;
  let env: NodeJS.ProcessEnv;

  const hangar = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['cli/bin.js', ...args], { cwd: REPO_ROOT, env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    runtime = await startRuntimeProcess();
    const admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'CLI Customer' });
    const key = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'cli', role: 'operator' });
    env = { ...process.env, HANGAR_URL: runtime.url, HANGAR_API_KEY: key.body.apiKey.key };
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('creates, waits, lists, shows and deletes an instance', async () => {
    const created = await hangar('create', 'instance', 'cli-box', 'vps', '--cpu', '1', '--memory', '1', '--disk', '30', '--auto-terminate', '30', '--wait', '--json');
    expect(created.code).toBe(0);
    const instance = JSON.parse(created.stdout).instance;
    expect(instance.id).toMatch(/^vps-cli-box-[a-z0-9]{6}$/);
    expect(instance.status).toBe('READY');
    expect(await portAnswers(instance.port)).toBe(true);

    const listed = await hangar('list', 'instances');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(instance.id);
    expect(listed.stdout).toContain('READY');

    const status = await hangar('instance', 'status', instance.id);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(instance.id);
    expect(status.stdout).toContain(String(instance.port));

    const deleted = await hangar('delete', 'instance', instance.id, '--wait', '--json');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).instance.status).toBe('TERMINATED');
    expect(isAlive(instance.providerDetails.pid)).toBe(false);
    expect(await portAnswers(instance.port)).toBe(false);
  });

  it('explains errors and exits non-zero', async () => {
    const tooSmall = await hangar('create', 'instance', 'tiny', '--disk', '10');
    expect(tooSmall.code).toBe(1);
    expect(tooSmall.stderr).toMatch(/30 GB/);

    const missing = await hangar('instance', 'status', 'vps-nothing-here-000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND/);

    env = { ...env, HANGAR_API_KEY: 'hgr_wrong' };
    const unauthorized = await hangar('list', 'instances');
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/UNAUTHORIZED/);
  });
});

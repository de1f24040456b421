import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, startFakeApi } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function runBin(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/bin.js', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('cli/bin.js as a real process', () => {
  it('--help lists every command', async () => {
    const result = await runBin(['--help']);
    expect(result.code).toBe(0);
    for (const command of [
      'create instance <name> [type]',
      'list instances',
      'instance status <id>',
      'instance events <id>',
      'delete instance <id>',
      'terminate instance <id>',
      'stop instance <id>',
      'kill instance <id>',
      'start instance <id>',
      'reboot instance <id>',
      'restart instance <id>',
      'extend instance <id>',
      'task start <id> <taskId>',
      'task finish <id>',
      'watch [id]',
      'stats',
      'create client <name>',
      'list clients',
      'create api-key <client>',
      'sync ',
      'sync-jobs [id]',
      'catalog <kind>',
    ]) {
      expect(result.stdout).toContain(command);
    }
    for (const option of ['--url <url>', '--api-key <key>', '--json']) expect(result.stdout).toContain(option);
  });

  it('talks to the API and exits 1 on an error envelope', async () => {
    api = await startFakeApi(() => fail(404, 'NOT_FOUND', "Instance 'vps-nope-000000' was not found"));
    const result = await runBin(['instance', 'status', 'vps-nope-000000'], { HANGAR_URL: api.url, HANGAR_API_KEY: 'k' });
    expect(result.stderr).toBe("Error (NOT_FOUND): Instance 'vps-nope-000000' was not found\n");
    expect(result.code).toBe(1);
    expect(api.requests[0]!.headers.authorization).toBe('Bearer k');
  });
});

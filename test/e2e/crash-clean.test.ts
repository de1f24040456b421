import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoDbLocalPidsOn, PID_FILE, startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { apiClient, freePort, REPO_ROOT, waitFor } from '../support/local-runtime.ts';

/**
 * A hard crash of the local runtime (`kill -9` of its whole process group, as an OOM killer or a
 * closed terminal would) leaves nothing behind: the DynamoDB Local JVM dies with it, and the next
 * start finds one JVM on the data directory and exactly one process per live LOCAL instance.
 * Every count is read from /proc.
 */
const ADMIN_KEY = 'hgr_crashCleanAdminKey00000000000000000000';

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

const started: ChildProcess[] = [];

/** `npm start` as its own process group (detached), so the test can kill the group as a whole. */
async function startRuntime(home: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), HANGAR_HOME: home, HANGAR_ADMIN_KEY: ADMIN_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'the runtime to answer /api/health',
    async () => {
      if (child.exitCode !== null) throw new Error(`runtime exited early:\n${output}`);
      return (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) || undefined;
    },
    120_000,
  );
  return { child, url, output: () => output };
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Live processes (not zombies) whose command line contains `marker`. */
async function pidsWithArgument(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const commandLine = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').includes(marker)) found.push(Number(name));
  }
  return found;
}

const instanceProcesses = (instanceId: string) => pidsWithArgument(`--hangar-instance=${instanceId}`);

/** Every LOCAL instance process started under this runtime's home (their cwd is the instance's directory). */
async function instanceProcessesUnder(home: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const commandLine = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.includes('--hangar-instance=')) continue;
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
    if (cwd.startsWith(join(home, 'instances'))) found.push(Number(name));
  }
  return found;
}

afterAll(async () => {
  // Whatever a failed assertion left running: this test's process groups only.
  for (const child of started) {
    if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
  }
});

// Counts come from /proc: Linux, as CI.
describe('a hard crash of the local runtime', () => {
  it('leaves no DynamoDB Local JVM and no duplicate or orphaned instance process after kill -9 and a restart', async () => {
    const home = resolve(await mkdtemp(join(tmpdir(), 'hangar-crash-')));
    const dataDir = join(home, 'dynamodb');
    const port = await freePort();

    // A runtime with one READY LOCAL instance.
    const first = await startRuntime(home, port);
    const admin = apiClient(first.url, ADMIN_KEY);
    const client = await admin('POST', '/api/clients', { name: 'Crash Test Co' });
    expect(client.status).toBe(201);
    const created = await admin('POST', '/api/instances', {
      name: 'survivor',
      clientId: client.body.client.id,
      config: { provider: 'LOCAL', autoTerminateMinutes: 60, diskSizeGB: 30 },
    });
    expect(created.status).toBe(202);
    const id: string = created.body.instance.id;
    await waitFor(`${id} to be READY`, async () => {
      const { body } = await admin('GET', `/api/instances/${id}`);
      return body.instance?.status === 'READY' ? true : undefined;
    });
    const jvmsBefore = await dynamoDbLocalPidsOn(dataDir);
    expect(jvmsBefore).toHaveLength(1);
    expect(Number(await readFile(join(dataDir, PID_FILE), 'utf8'))).toBe(jvmsBefore[0]);
    expect(await instanceProcesses(id)).toHaveLength(1);

    // kill -9 of the runtime's whole process group: no handler runs.
    process.kill(-first.child.pid!, 'SIGKILL');
    await waitFor('the runtime group to be gone', async () => (groupAlive(first.child.pid!) ? undefined : true));

    // The JVM follows its parent on its own (the watchdog sees the pipe close).
    await waitFor('the DynamoDB Local JVM to die with its parent', async () => ((await dynamoDbLocalPidsOn(dataDir)).length === 0 ? true : undefined), 15_000);
    // The instance is a detached workload: it outlives the runtime, to be adopted by the next one.
    expect(await instanceProcesses(id)).toHaveLength(1);

    // Restart on the same state directory.
    const second = await startRuntime(home, port);
    const after = apiClient(second.url, ADMIN_KEY);
    const { body } = await after('GET', `/api/instances/${id}`);
    expect(['READY', 'RUNNING']).toContain(body.instance.status);
    expect(await dynamoDbLocalPidsOn(dataDir)).toHaveLength(1);
    expect(await instanceProcesses(id)).toHaveLength(1);
    // No other instance process of this home: none orphaned, none started twice.
    expect(await instanceProcessesUnder(home)).toEqual(await instanceProcesses(id));

    // A clean stop of the second runtime ends its JVM too, and removes the pid file.
    process.kill(second.child.pid!, 'SIGTERM');
    await waitFor('the runtime to exit', async () => (second.child.exitCode !== null || second.child.signalCode !== null ? true : undefined), 60_000);
    expect(await dynamoDbLocalPidsOn(dataDir)).toHaveLength(0);
  }, 300_000);

  it('finds and stops, at start, a DynamoDB Local left on the data directory with its pid file', async () => {
    const home = resolve(await mkdtemp(join(tmpdir(), 'hangar-stale-')));
    const dataDir = join(home, 'dynamodb');

    // A JVM that outlived its runtime (say its watchdog was killed too): started, then its
    // watchdog's group left alone while this process forgets it.
    const stale = await startDynamoDbLocal({ dataDir, stopOnSignals: false });
    const [stalePid] = await dynamoDbLocalPidsOn(dataDir);
    expect(stalePid).toBeGreaterThan(0);
    const port = await freePort();
    const fresh = await startDynamoDbLocal({ dataDir, port, stopOnSignals: false });
    try {
      const jvms = await dynamoDbLocalPidsOn(dataDir);
      expect(jvms).toHaveLength(1);
      expect(jvms[0]).not.toBe(stalePid);
    } finally {
      await fresh.stop();
      await stale.stop();
    }

    // A pid file naming something else entirely (a recycled pid) must never get that process killed.
    await writeFile(join(dataDir, PID_FILE), String(process.pid));
    const third = await startDynamoDbLocal({ dataDir, stopOnSignals: false });
    await third.stop();
    // Still here: the pid file named this test's own process, which is not DynamoDB Local.
    expect(process.kill(process.pid, 0)).toBe(true);
  }, 120_000);
});

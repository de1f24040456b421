import { readdir, readFile, appendFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import { listLocalImages, resolveLocalImage } from '../../shared/adapters/local/images.ts';
import { LocalProvider, type UnexpectedExit } from '../../shared/adapters/local/local-provider.ts';
import type { LaunchSpec, MachineRef } from '../../shared/ports/compute-provider.ts';
import { contractInstanceId, refOf, runComputeProviderContract, waitForState } from './compute-provider.contract.ts';

function localSpec(instanceId: string, image?: string): LaunchSpec {
  return {
    instanceId,
    clientId: 'client-contract',
    name: 'contract',
    instanceType: 'local.small',
    region: 'local',
    resources: { cpu: 1, memory: 1 },
    tags: { suite: 'contract' },
    ...(image ? { image } : {}),
  };
}

/** Every pid recorded under rootDir, so afterAll can kill anything a failed test left behind. */
async function recordedPids(rootDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir(rootDir).catch(() => [])) {
    try {
      const record = JSON.parse(await readFile(join(rootDir, entry, 'machine.json'), 'utf8')) as { pid: number | null };
      if (record.pid) pids.push(record.pid);
    } catch {
      // no record: nothing running there
    }
  }
  return pids;
}

async function killLeftovers(rootDir: string): Promise<void> {
  for (const pid of await recordedPids(rootDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true if something accepts a TCP connection on the port, false if refused. */
function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function nextExit(provider: LocalProvider, timeoutMs = 5000): Promise<UnexpectedExit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no unexpected exit reported within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = provider.onUnexpectedExit((event) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

const contractRoots: string[] = [];

runComputeProviderContract('LOCAL', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'hangar-local-contract-'));
  contractRoots.push(rootDir);
  const provider = new LocalProvider({ rootDir, stopGraceMs: 1000, readinessTimeoutMs: 10_000 });
  return {
    provider,
    spec: (instanceId) => localSpec(instanceId),
    cleanup: async () => {
      provider.close();
      await killLeftovers(rootDir);
      await rm(rootDir, { recursive: true, force: true });
    },
  };
});

describe('LocalProvider', () => {
  let rootDir: string;
  let provider: LocalProvider;
  const others: LocalProvider[] = [];

  beforeAll(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'hangar-local-provider-'));
    provider = new LocalProvider({ rootDir, stopGraceMs: 1000, readinessTimeoutMs: 10_000, adoptionPollMs: 200 });
  });

  afterAll(async () => {
    for (const other of others) other.close();
    await provider.stopAll().catch(() => undefined);
    provider.close();
    await killLeftovers(rootDir);
    await rm(rootDir, { recursive: true, force: true });
    for (const root of contractRoots) await killLeftovers(root);
  });

  async function launchRunning(label: string): Promise<{ ref: MachineRef; port: number; pid: number }> {
    const spec = localSpec(contractInstanceId(label));
    const ref = refOf(await provider.launch(spec), spec);
    const machine = await waitForState(provider, ref, ['running']);
    return { ref, port: Number(machine.port), pid: Number(machine.details?.pid) };
  }

  it('runs a real process that serves /health on its port, and frees the port on terminate', async () => {
    const { ref, port, pid } = await launchRunning('http');

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    const body = (await health.json()) as { status: string; instanceId: string; uptimeSeconds: number };
    const root = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pid: number; boots: number };
    const state = JSON.parse(await readFile(join(rootDir, ref.instanceId, 'data', 'workload-state.json'), 'utf8')) as {
      boots: number;
    };
    await provider.terminate(ref);

    expect(health.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', instanceId: ref.instanceId });
    expect(typeof body.uptimeSeconds).toBe('number');
    expect(root.pid).toBe(pid);
    expect(state.boots).toBe(1);
    expect(await portAccepts(port)).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(await readdir(rootDir)).not.toContain(ref.instanceId);
  });

  it('writes machine.json with the process, port and image', async () => {
    const { ref, port, pid } = await launchRunning('record');

    const record = JSON.parse(await readFile(join(rootDir, ref.instanceId, 'machine.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');

    expect(record).toMatchObject({
      providerInstanceId: ref.providerInstanceId,
      pid,
      port,
      image: 'http-workload',
      status: 'running',
    });
    expect(ref.providerInstanceId).toMatch(/^local-[0-9a-f]{10}$/);
    if (cmdline) expect(cmdline.split('\0')).toContain(`--hangar-instance=${ref.instanceId}`);
    await provider.terminate(ref);
  });

  it('creates one process when the same instance is launched concurrently', async () => {
    const spec = localSpec(contractInstanceId('concurrent'));

    const [first, second] = await Promise.all([provider.launch(spec), provider.launch(spec)]);
    const ref = refOf(first, spec);
    await waitForState(provider, ref, ['running']);

    expect(second.providerInstanceId).toBe(first.providerInstanceId);
    expect(second.details?.pid).toBe(first.details?.pid);
    await provider.terminate(ref);
  });

  it('reports a process killed from outside as an unexpected exit, with the reason', async () => {
    const { ref, pid } = await launchRunning('killed');
    await appendFile(join(rootDir, ref.instanceId, 'stderr.log'), 'workload: simulated disk failure\n');
    const exit = nextExit(provider);

    process.kill(pid, 'SIGKILL');
    const event = await exit;
    const machine = await provider.describe(ref);

    expect(event).toMatchObject({
      instanceId: ref.instanceId,
      providerInstanceId: ref.providerInstanceId,
      pid,
      code: null,
      signal: 'SIGKILL',
    });
    expect(event.reason).toBe(`process ${pid} was killed by SIGKILL: workload: simulated disk failure`);
    expect(machine?.state).toBe('error');
    expect(machine?.reason).toBe(event.reason);
    await provider.terminate(ref);
  });

  it('relaunches a dead machine under the same provider id', async () => {
    const { ref, pid } = await launchRunning('relaunch');
    const exit = nextExit(provider);
    process.kill(pid, 'SIGKILL');
    await exit;

    const again = await provider.launch(localSpec(ref.instanceId));
    const running = await waitForState(provider, ref, ['running']);

    expect(again.providerInstanceId).toBe(ref.providerInstanceId);
    expect(running.details?.pid).not.toBe(pid);
    await provider.terminate(ref);
  });

  it('stops quietly: describe says stopped, no unexpected exit, data kept across start', async () => {
    const { ref, pid, port } = await launchRunning('quiet-stop');
    const exits: UnexpectedExit[] = [];
    const unsubscribe = provider.onUnexpectedExit((event) => exits.push(event));

    await provider.stop(ref);
    const stopped = await provider.describe(ref);
    const closedPort = await portAccepts(port);
    await provider.start(ref);
    const restarted = await waitForState(provider, ref, ['running']);
    const root = (await (await fetch(`http://127.0.0.1:${restarted.port}/`)).json()) as { boots: number };
    unsubscribe();

    expect(stopped?.state).toBe('stopped');
    expect(stopped?.port).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
    expect(closedPort).toBe(false);
    expect(root.boots).toBe(2);
    expect(exits).toEqual([]);
    await provider.terminate(ref);
  });

  it('force-stops with SIGKILL without reporting an unexpected exit', async () => {
    const { ref, pid } = await launchRunning('force-stop');
    const exits: UnexpectedExit[] = [];
    const unsubscribe = provider.onUnexpectedExit((event) => exits.push(event));

    await provider.stop(ref, { force: true });
    const stopped = await provider.describe(ref);
    unsubscribe();

    expect(stopped?.state).toBe('stopped');
    expect(isAlive(pid)).toBe(false);
    expect(exits).toEqual([]);
    await provider.terminate(ref);
  });

  it('rejects an unknown image with a validation error and creates nothing', async () => {
    const spec = localSpec(contractInstanceId('bad-image'), 'no-such-image');

    const launching = provider.launch(spec);

    await expect(launching).rejects.toBeInstanceOf(ValidationError);
    await expect(launching).rejects.toThrow("Unknown LOCAL image 'no-such-image'; available: http-workload");
    expect(await readdir(rootDir)).not.toContain(spec.instanceId);
  });

  it('accepts the registry-style image name and lists its images', () => {
    expect(resolveLocalImage('hangar/http-workload').name).toBe('http-workload');
    expect(resolveLocalImage().name).toBe('http-workload');
    expect(listLocalImages().map((image) => image.name)).toContain('http-workload');
  });

  it('samples cpu and memory of a running machine, and nothing once stopped', async () => {
    const { ref } = await launchRunning('sample');

    const sample = await provider.sample(ref);
    await provider.stop(ref);
    const afterStop = await provider.sample(ref);

    expect(sample?.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample?.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(Number.isNaN(Date.parse(sample?.sampledAt ?? ''))).toBe(false);
    expect(afterStop).toBeNull();
    await provider.terminate(ref);
  });

  it('adopts machines of an earlier runtime and detects their death by polling', async () => {
    const earlierRootDir = rootDir;
    const earlier = new LocalProvider({ rootDir: earlierRootDir, stopGraceMs: 1000 });
    others.push(earlier);
    const spec = localSpec(contractInstanceId('adopted'));
    const ref = refOf(await earlier.launch(spec), spec);
    const { details } = await waitForState(earlier, ref, ['running']);
    const pid = Number(details?.pid);
    earlier.close(); // the earlier runtime goes away; its detached machine keeps running

    const later = new LocalProvider({ rootDir: earlierRootDir, stopGraceMs: 1000, adoptionPollMs: 200 });
    others.push(later);
    const owned = await later.listOwned();
    const exit = nextExit(later);
    process.kill(pid, 'SIGKILL');
    const event = await exit;
    const machine = await later.describe(ref);

    expect(owned.find((candidate) => candidate.instanceId === ref.instanceId)?.state).toBe('running');
    expect(event).toMatchObject({ instanceId: ref.instanceId, pid, code: null, signal: null });
    expect(event.reason).toContain(`process ${pid} exited unexpectedly`);
    expect(machine?.state).toBe('error');
    await later.terminate(ref);
  });

  it('reports a death that happened while no runtime was watching, once', async () => {
    const earlier = new LocalProvider({ rootDir, stopGraceMs: 1000 });
    others.push(earlier);
    const spec = localSpec(contractInstanceId('unwatched'));
    const ref = refOf(await earlier.launch(spec), spec);
    const pid = Number((await waitForState(earlier, ref, ['running'])).details?.pid);
    earlier.close();
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid));

    const later = new LocalProvider({ rootDir, stopGraceMs: 1000 });
    others.push(later);
    const exits: UnexpectedExit[] = [];
    later.onUnexpectedExit((event) => exits.push(event));
    const first = await later.describe(ref);
    const second = await later.describe(ref);

    expect(first?.state).toBe('error');
    expect(second?.state).toBe('error');
    expect(exits.map((event) => event.pid)).toEqual([pid]);
    await later.terminate(ref);
  });

  it('stopAll stops every running machine and marks it stopped', async () => {
    const one = await launchRunning('stop-all-1');
    const two = await launchRunning('stop-all-2');

    await provider.stopAll();

    expect((await provider.describe(one.ref))?.state).toBe('stopped');
    expect((await provider.describe(two.ref))?.state).toBe('stopped');
    expect(isAlive(one.pid) || isAlive(two.pid)).toBe(false);
    await provider.terminate(one.ref);
    await provider.terminate(two.ref);
  });

  it('keeps a once-ready machine running but says why when /health stops answering', async () => {
    const quick = new LocalProvider({ rootDir, stopGraceMs: 1000, healthTimeoutMs: 200 });
    others.push(quick);
    const spec = localSpec(contractInstanceId('frozen'));
    const ref = refOf(await quick.launch(spec), spec);
    const pid = Number((await waitForState(quick, ref, ['running'])).details?.pid);
    await waitUntil(() => readRecord(ref).then((record) => Boolean(record.readyAt)));

    process.kill(pid, 'SIGSTOP');
    const frozen = await quick.describe(ref).finally(() => process.kill(pid, 'SIGCONT'));

    expect(frozen?.state).toBe('running');
    expect(frozen?.reason).toBe('GET /health is not answering');
    await quick.terminate(ref);
  });

  it('turns a machine that never answers within the readiness window into an error', async () => {
    const impatient = new LocalProvider({ rootDir, stopGraceMs: 1000, readinessTimeoutMs: 0, healthTimeoutMs: 200 });
    others.push(impatient);
    const spec = localSpec(contractInstanceId('never-ready'));
    const launched = await impatient.launch(spec);
    const pid = Number(launched.details?.pid);
    // Frozen before Node has even loaded the workload script, so it can never listen.
    process.kill(pid, 'SIGSTOP');

    const machine = await impatient.describe(refOf(launched, spec)).finally(() => process.kill(pid, 'SIGCONT'));

    expect(launched.state).toBe('pending');
    expect(machine?.state).toBe('error');
    expect(machine?.reason).toMatch(new RegExp(`^process ${pid} has not answered GET /health on port \\d+ within 0 s`));
    await impatient.terminate(refOf(launched, spec));
  });

  async function readRecord(ref: MachineRef): Promise<{ readyAt?: string }> {
    return JSON.parse(await readFile(join(rootDir, ref.instanceId, 'machine.json'), 'utf8')) as { readyAt?: string };
  }

  it('refuses instance ids that would escape the root directory', async () => {
    await expect(provider.launch(localSpec('../escape'))).rejects.toBeInstanceOf(ValidationError);
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

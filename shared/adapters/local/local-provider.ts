import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import pidusage from 'pidusage';
import { ProviderError } from '../../domain/errors.ts';
import type {
  CatalogItem,
  CatalogKind,
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
  MachineState,
  ResourceSample,
} from '../../ports/compute-provider.ts';
import { describeExit } from './exit-reason.ts';
import { ExitWatcher, type ProcessExit } from './exit-watcher.ts';
import { probeHealth } from './health-probe.ts';
import { listLocalImages, resolveLocalImage } from './images.ts';
import { DEFAULT_REGION, priceEntriesFor } from '../../domain/catalog.ts';
import { KeyedLock } from './keyed-lock.ts';
import { buildLaunchCommand } from './launch-command.ts';
import {
  errorMessage,
  instancePaths,
  isErrnoException,
  lastLogLine,
  readMachineFile,
  writeMachineFile,
  type InstancePaths,
  type MachineRecord,
} from './machine-file.ts';
import { allocateFreePort, LOOPBACK } from './ports.ts';
import { isOurProcess, signalWorkload, spawnWorkload, waitForExit } from './process-control.ts';

export interface LocalProviderOptions {
  /** Where instance directories live, e.g. `<HANGAR_HOME>/instances`. */
  rootDir: string;
  /** How long a workload has to exit after SIGTERM before it gets SIGKILL. */
  stopGraceMs?: number;
  /** How long a freshly started workload may take to answer its health check before it is an error. */
  readinessTimeoutMs?: number;
  /** Timeout of one health probe. */
  healthTimeoutMs?: number;
  /** How often adopted processes (not our children) are checked for life. */
  adoptionPollMs?: number;
}

/** A machine died although Hangar did not ask it to stop or terminate. */
export interface UnexpectedExit {
  instanceId: string;
  providerInstanceId: string;
  pid: number;
  code: number | null;
  signal: string | null;
  reason: string;
}

export type UnexpectedExitListener = (event: UnexpectedExit) => void;

const DEFAULT_STOP_GRACE_MS = 5000;
const DEFAULT_READINESS_TIMEOUT_MS = 60_000;
const DEFAULT_HEALTH_TIMEOUT_MS = 1000;
const DEFAULT_ADOPTION_POLL_MS = 1000;
/** After SIGKILL the kernel needs only moments; longer means something is badly wrong. */
const KILL_WAIT_MS = 5000;

/**
 * The LOCAL provider: a machine is an OS process on this host, with its own port, data
 * directory and logs under `<rootDir>/<instanceId>/`. machine.json there is the source of truth,
 * so a restarted runtime picks up where the last one left off.
 *
 * Exit detection: processes spawned by this object are watched through their exit event.
 * Processes started by an earlier runtime are adopted automatically the first time describe(),
 * listOwned(), launch() or start() finds them alive (or explicitly with adopt()), and are then
 * polled every `adoptionPollMs`. A death found by any of these paths is recorded in machine.json
 * as `crashed` and reported to onUnexpectedExit listeners exactly once, including deaths that
 * happened while no runtime was watching.
 */
export class LocalProvider implements ComputeProvider {
  readonly name = 'LOCAL' as const;

  private readonly rootDir: string;
  private readonly stopGraceMs: number;
  private readonly readinessTimeoutMs: number;
  private readonly healthTimeoutMs: number;

  private readonly lock = new KeyedLock();
  private readonly watcher: ExitWatcher;
  private readonly listeners = new Set<UnexpectedExitListener>();
  private closed = false;

  constructor(options: LocalProviderOptions) {
    this.rootDir = options.rootDir;
    this.stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.readinessTimeoutMs = options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
    this.healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    this.watcher = new ExitWatcher((exit) => this.handleExit(exit), options.adoptionPollMs ?? DEFAULT_ADOPTION_POLL_MS);
  }

  /** This machine is always reachable; what matters is that the instance root is usable. */
  async testConnection(): Promise<void> {
    await mkdir(this.rootDir, { recursive: true });
  }

  /** LOCAL offers the shipped price table's local.* types and the workloads it can run. */
  async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    const region = DEFAULT_REGION.LOCAL;
    if (kind === 'flavors') {
      return priceEntriesFor('LOCAL').map((e) => ({
        kind,
        id: e.instanceType,
        name: e.instanceType,
        region,
        hourlyMicros: e.hourlyMicros,
        attributes: { vcpus: e.vcpu, memoryMiB: e.memoryGiB * 1024, gpus: e.gpus },
      }));
    }
    if (kind === 'images') {
      return listLocalImages().map((image) => ({ kind, id: image.name, name: image.name, region, attributes: { description: image.description } }));
    }
    if (kind === 'networks') return [{ kind, id: 'loopback', name: 'loopback', region, attributes: { cidr: '127.0.0.0/8' } }];
    return [];
  }

  /** An unknown image is the caller's mistake: refuse it before anything is recorded. */
  checkLaunchSpec(spec: LaunchSpec): void {
    resolveLocalImage(spec.image);
  }

  async launch(spec: LaunchSpec): Promise<Machine> {
    // Validate before touching the disk: an unknown image must leave nothing behind.
    const image = resolveLocalImage(spec.image);
    const paths = instancePaths(this.rootDir, spec.instanceId);
    return this.lock.run(spec.instanceId, async () => {
      const existing = await readMachineFile(paths);
      if (existing) {
        const record = await this.ensureStarted(existing, paths);
        return this.observe(record, paths);
      }
      await mkdir(paths.dataDir, { recursive: true });
      const now = new Date().toISOString();
      const record = await this.spawnInto(
        {
          providerInstanceId: `local-${randomBytes(5).toString('hex')}`,
          instanceId: spec.instanceId,
          clientId: spec.clientId,
          name: spec.name,
          image: image.name,
          status: 'running',
          pid: null,
          port: null,
          createdAt: now,
          startedAt: now,
        },
        paths,
      );
      return this.toMachine(record, paths, 'pending');
    });
  }

  async describe(ref: MachineRef): Promise<Machine | null> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    const record = await readMachineFile(paths);
    if (!record || record.providerInstanceId !== ref.providerInstanceId) return null;
    return this.observe(record, paths);
  }

  async listOwned(): Promise<Machine[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.rootDir, { withFileTypes: true });
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return [];
      throw new ProviderError(`Cannot list ${this.rootDir}: ${errorMessage(error)}`, true);
    }
    const machines = await Promise.all(
      entries
        .filter((entry) => entry.isDirectory())
        .map(async (entry) => {
          let paths: InstancePaths;
          try {
            paths = instancePaths(this.rootDir, entry.name);
          } catch {
            return null; // not a directory we could have created
          }
          const record = await readMachineFile(paths);
          return record ? this.observe(record, paths) : null;
        }),
    );
    return machines.filter((machine): machine is Machine => machine !== null);
  }

  async start(ref: MachineRef): Promise<void> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    await this.lock.run(ref.instanceId, async () => {
      await this.ensureStarted(await this.requireRecord(ref, paths), paths);
    });
  }

  async stop(ref: MachineRef, options: { force?: boolean } = {}): Promise<void> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    await this.lock.run(ref.instanceId, async () => {
      await this.bringDown(await this.requireRecord(ref, paths), paths, options.force ?? false);
    });
  }

  async reboot(ref: MachineRef, options: { hard?: boolean } = {}): Promise<void> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    // One lock for both halves, so nothing can slip in between the stop and the start.
    await this.lock.run(ref.instanceId, async () => {
      const stopped = await this.bringDown(await this.requireRecord(ref, paths), paths, options.hard ?? false);
      await this.spawnInto(stopped, paths);
    });
  }

  async terminate(ref: MachineRef): Promise<void> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    await this.lock.run(ref.instanceId, async () => {
      const record = await readMachineFile(paths);
      // Another machine under the same instance id is not the one we were asked to release.
      if (record && record.providerInstanceId !== ref.providerInstanceId) return;
      if (record) {
        const child = this.watcher.unwatch(record.instanceId);
        if (record.pid !== null && (await isOurProcess(record.pid, record.instanceId))) {
          await writeMachineFile(paths, { ...record, status: 'stopping' });
          // Waiting for the exit is what guarantees the port is closed when we return.
          await this.killAndWait(record.pid, record.instanceId, false, child);
        }
      }
      await rm(paths.dir, { recursive: true, force: true, maxRetries: 3 });
    });
  }

  async sample(ref: MachineRef): Promise<ResourceSample | null> {
    const paths = instancePaths(this.rootDir, ref.instanceId);
    const record = await readMachineFile(paths);
    if (!record || record.providerInstanceId !== ref.providerInstanceId) return null;
    if (record.status !== 'running' || record.pid === null) return null;
    if (!(await isOurProcess(record.pid, record.instanceId))) return null;
    try {
      const stat = await pidusage(record.pid);
      return {
        cpuPercent: Math.round(stat.cpu * 100) / 100,
        memoryBytes: stat.memory,
        sampledAt: new Date().toISOString(),
      };
    } catch {
      return null; // exited between the check and the sample
    }
  }

  /** Listen for machines that die on their own. Returns the function that unsubscribes. */
  onUnexpectedExit(listener: UnexpectedExitListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Watch a machine started by an earlier runtime. True when it is running and now watched;
   * false when it is not running (a death found here is recorded and reported).
   */
  async adopt(instanceId: string): Promise<boolean> {
    const paths = instancePaths(this.rootDir, instanceId);
    const record = await readMachineFile(paths);
    if (!record || record.status !== 'running' || record.pid === null) return false;
    if (await isOurProcess(record.pid, instanceId)) {
      this.watcher.adopt(instanceId, record.providerInstanceId, record.pid);
      return true;
    }
    await this.noticeDeath(record);
    return false;
  }

  /** Stop every machine this provider watches (runtime shutdown); each is marked stopped. */
  async stopAll(): Promise<void> {
    const instanceIds = this.watcher.instanceIds();
    const results = await Promise.allSettled(
      instanceIds.map((instanceId) =>
        this.lock.run(instanceId, async () => {
          const paths = instancePaths(this.rootDir, instanceId);
          const record = await readMachineFile(paths);
          if (record) await this.bringDown(record, paths, false);
        }),
      ),
    );
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failures.length > 0) {
      throw new ProviderError(
        `Could not stop ${failures.length} LOCAL machine(s): ${failures.map((failure) => errorMessage(failure.reason)).join('; ')}`,
        true,
      );
    }
  }

  /**
   * Stop watching and clear timers so the Node process can exit. Machines keep running (they
   * are detached); the next runtime adopts them.
   */
  close(): void {
    this.closed = true;
    this.watcher.close();
    this.listeners.clear();
  }

  // ---- lifecycle steps (callers hold the instance's lock) ----

  /** Running already (adopt it), or spawn it; an interrupted stop is finished first. */
  private async ensureStarted(record: MachineRecord, paths: InstancePaths): Promise<MachineRecord> {
    if (record.pid !== null && (await isOurProcess(record.pid, record.instanceId))) {
      if (record.status === 'running') {
        this.watcher.adopt(record.instanceId, record.providerInstanceId, record.pid);
        return record;
      }
      // Never run two processes for one machine.
      record = await this.bringDown(record, paths, false);
    }
    return this.spawnInto(record, paths);
  }

  private async spawnInto(record: MachineRecord, paths: InstancePaths): Promise<MachineRecord> {
    const image = resolveLocalImage(record.image);
    const port = await allocateFreePort();
    await mkdir(paths.dataDir, { recursive: true });
    const { child, pid } = spawnWorkload(
      buildLaunchCommand({
        instanceId: record.instanceId,
        clientId: record.clientId,
        name: record.name,
        image,
        port,
        dataDir: paths.dataDir,
      }),
      paths,
    );
    const next: MachineRecord = {
      ...record,
      status: 'running',
      pid,
      port,
      startedAt: new Date().toISOString(),
      readyAt: undefined,
      stoppedAt: undefined,
      exit: undefined,
    };
    // Watch before the first await: a workload that fails at once must still be noticed.
    this.watcher.watchChild(record.instanceId, record.providerInstanceId, pid, child);
    try {
      await writeMachineFile(paths, next);
    } catch (error) {
      // Without a record nobody could find this process again: do not leave it running.
      this.watcher.unwatch(record.instanceId);
      signalWorkload(pid, 'SIGKILL');
      throw new ProviderError(`Cannot record LOCAL machine ${record.instanceId}: ${errorMessage(error)}`, true);
    }
    return next;
  }

  /** Stop the process if it runs and record `stopped`; the data dir stays. */
  private async bringDown(record: MachineRecord, paths: InstancePaths, force: boolean): Promise<MachineRecord> {
    // Unwatch first: from here on an exit is what we asked for, not an accident.
    const child = this.watcher.unwatch(record.instanceId);
    const alive = record.pid !== null && (await isOurProcess(record.pid, record.instanceId));
    if (record.status === 'stopped' && !alive) return record;
    if (alive && record.pid !== null) {
      await writeMachineFile(paths, { ...record, status: 'stopping' });
      await this.killAndWait(record.pid, record.instanceId, force, child);
    }
    const stopped: MachineRecord = {
      ...record,
      status: 'stopped',
      pid: null,
      port: null,
      readyAt: undefined,
      stoppedAt: new Date().toISOString(),
    };
    await writeMachineFile(paths, stopped);
    return stopped;
  }

  private async killAndWait(pid: number, instanceId: string, force: boolean, child?: ChildProcess): Promise<void> {
    if (!force) {
      signalWorkload(pid, 'SIGTERM');
      if (await waitForExit(pid, instanceId, this.stopGraceMs, child)) return;
    }
    signalWorkload(pid, 'SIGKILL');
    if (await waitForExit(pid, instanceId, KILL_WAIT_MS, child)) return;
    throw new ProviderError(`LOCAL process ${pid} of ${instanceId} did not exit after SIGKILL`, true);
  }

  private async requireRecord(ref: MachineRef, paths: InstancePaths): Promise<MachineRecord> {
    const record = await readMachineFile(paths);
    if (!record || record.providerInstanceId !== ref.providerInstanceId) {
      throw new ProviderError(
        `LOCAL machine ${ref.providerInstanceId} of instance ${ref.instanceId} does not exist`,
        false,
      );
    }
    return record;
  }

  // ---- observing ----

  /** The machine as it is now: process liveness, then the health check. */
  private async observe(record: MachineRecord, paths: InstancePaths, afterDeath = false): Promise<Machine> {
    switch (record.status) {
      case 'crashed':
        return this.toMachine(record, paths, 'error', record.exit?.reason ?? 'the process exited unexpectedly');
      case 'stopped':
        return this.toMachine(record, paths, 'stopped');
      case 'stopping': {
        const alive = record.pid !== null && (await isOurProcess(record.pid, record.instanceId));
        return this.toMachine(record, paths, alive ? 'stopping' : 'stopped');
      }
      case 'running':
        break;
    }
    const { pid, port } = record;
    if (pid === null || port === null) return this.toMachine(record, paths, 'error', 'machine.json records no process');
    if (!(await isOurProcess(pid, record.instanceId))) {
      if (afterDeath) return this.toMachine(record, paths, 'error', `process ${pid} is not running`);
      await this.noticeDeath(record);
      const fresh = await readMachineFile(paths);
      return fresh ? this.observe(fresh, paths, true) : this.toMachine(record, paths, 'error', `process ${pid} is gone`);
    }
    this.watcher.adopt(record.instanceId, record.providerInstanceId, pid);
    const image = resolveLocalImage(record.image);
    if (await probeHealth(port, image.healthPath, this.healthTimeoutMs)) {
      if (!record.readyAt) this.recordReady(record, paths);
      return this.toMachine(record, paths, 'running');
    }
    // Once ready, a missed probe is a health matter (reported by health checks), not a new state.
    if (record.readyAt) return this.toMachine(record, paths, 'running', `GET ${image.healthPath} is not answering`);
    const startingFor = Date.now() - Date.parse(record.startedAt);
    if (startingFor <= this.readinessTimeoutMs) return this.toMachine(record, paths, 'pending');
    const lastLine = await lastLogLine(paths.stderrLog);
    const reason = `process ${pid} has not answered GET ${image.healthPath} on port ${port} within ${Math.round(this.readinessTimeoutMs / 1000)} s`;
    return this.toMachine(record, paths, 'error', lastLine ? `${reason}: ${lastLine}` : reason);
  }

  private toMachine(record: MachineRecord, paths: InstancePaths, state: MachineState, reason?: string): Machine {
    const live = state === 'running' || state === 'pending' || state === 'stopping';
    const details: Record<string, string | number> = {
      dataDir: paths.dataDir,
      image: record.image,
      stdoutLog: paths.stdoutLog,
      stderrLog: paths.stderrLog,
    };
    if (live && record.pid !== null) details.pid = record.pid;
    if (live) details.startedAt = record.startedAt;
    const machine: Machine = {
      providerInstanceId: record.providerInstanceId,
      instanceId: record.instanceId,
      state,
      privateIp: LOOPBACK,
      details,
    };
    if (live && record.port !== null) machine.port = record.port;
    if (reason) machine.reason = reason;
    return machine;
  }

  /** Remember the first healthy answer, in the background: describe must not wait on a lock. */
  private recordReady(record: MachineRecord, paths: InstancePaths): void {
    void this.lock
      .run(record.instanceId, async () => {
        const current = await readMachineFile(paths);
        if (current?.status !== 'running' || current.pid !== record.pid || current.readyAt) return;
        await writeMachineFile(paths, { ...current, readyAt: new Date().toISOString() });
      })
      .catch(() => undefined); // terminated meanwhile: nothing to remember
  }

  // ---- exit detection ----

  /** A dead process found by describe: let our child's exit event speak first, it knows the code. */
  private async noticeDeath(record: MachineRecord): Promise<void> {
    if (record.pid === null) return;
    const handled = this.watcher.exitHandled(record.instanceId, record.pid);
    if (!handled) {
      const { instanceId, providerInstanceId, pid } = record;
      await this.handleExit({ instanceId, providerInstanceId, pid, code: null, signal: null });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    });
    await Promise.race([handled, patience]);
    clearTimeout(timer);
  }

  /**
   * Record an exit in machine.json and report it, unless Hangar asked for it. The record is
   * the arbiter: only a `running` record for this very pid turns into `crashed`, so each death
   * is reported once, and exits caused by stop/terminate (which rewrite the record first) never.
   */
  private async handleExit({ instanceId, providerInstanceId, pid, code, signal }: ProcessExit): Promise<void> {
    if (this.closed) return;
    const paths = instancePaths(this.rootDir, instanceId);
    const event = await this.lock
      .run(instanceId, async (): Promise<UnexpectedExit | null> => {
        const record = await readMachineFile(paths);
        if (!record || record.status !== 'running' || record.pid !== pid) return null;
        if (record.providerInstanceId !== providerInstanceId) return null;
        const reason = describeExit(pid, code, signal, await lastLogLine(paths.stderrLog));
        await writeMachineFile(paths, {
          ...record,
          status: 'crashed',
          pid: null,
          port: null,
          exit: { pid, code, signal, reason, at: new Date().toISOString() },
        });
        return { instanceId, providerInstanceId, pid, code, signal, reason };
      })
      .catch(() => null); // the directory went away meanwhile: terminated, nothing to report
    if (event) this.emit(event);
  }

  private emit(event: UnexpectedExit): void {
    if (this.closed) return;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One faulty listener must not silence the others or break exit bookkeeping.
        process.emitWarning(`onUnexpectedExit listener failed: ${errorMessage(error)}`);
      }
    }
  }
}

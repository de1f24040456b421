import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '../../domain/errors.ts';
import { instanceMarker, type LaunchCommand } from './launch-command.ts';
import { errorMessage, isErrnoException, type InstancePaths } from './machine-file.ts';

const HAS_PROC = existsSync('/proc/self/cmdline');

/**
 * Start the workload in its own session (detached) so that a crash of the runtime does not take
 * the machines with it; the next runtime adopts them. Output is appended to the instance's logs.
 */
export function spawnWorkload(launch: LaunchCommand, paths: InstancePaths): { child: ChildProcess; pid: number } {
  const stdout = openSync(paths.stdoutLog, 'a');
  const stderr = openSync(paths.stderrLog, 'a');
  try {
    const child = spawn(launch.command, launch.args, {
      cwd: paths.dir,
      env: launch.env,
      detached: true,
      stdio: ['ignore', stdout, stderr],
    });
    // Spawn failures (ENOENT…) and failed kill() calls arrive as 'error' events; we report
    // through return values and exceptions instead, so an unhandled event must not crash us.
    child.on('error', () => undefined);
    if (child.pid === undefined) {
      throw new ProviderError(`Cannot start '${launch.command}' for the LOCAL machine`, false);
    }
    // The runtime must be free to exit while its machines keep running.
    child.unref();
    return { child, pid: child.pid };
  } finally {
    // The child holds its own copies of the descriptors.
    closeSync(stdout);
    closeSync(stderr);
  }
}

/** The command line of `pid`, or null when there is no such process (or it is a zombie). */
async function readCommandLine(pid: number): Promise<string[] | null> {
  if (HAS_PROC) {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      // A zombie keeps its pid but has an empty command line: it is no longer running.
      return raw.length === 0 ? null : raw.split('\0').filter((part) => part.length > 0);
    } catch {
      return null;
    }
  }
  // No /proc (macOS): ask ps. The arguments come back space-joined, which is enough for a marker.
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'args=', '-p', String(pid)], (error, stdout) => {
      const line = stdout.trim();
      resolve(error || line.length === 0 ? null : line.split(/\s+/));
    });
  });
}

/**
 * True when `pid` is alive and is the workload Hangar started for `instanceId`. Pids are
 * recycled, so "alive" alone could point at a stranger's process.
 */
export async function isOurProcess(pid: number, instanceId: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: alive but another user's, so not one we started.
    return false;
  }
  const commandLine = await readCommandLine(pid);
  return commandLine !== null && commandLine.includes(instanceMarker(instanceId));
}

/**
 * Signal the workload's whole process group (it leads one, being detached) so helpers it started
 * go down with it. A process that is already gone is not an error.
 */
export function signalWorkload(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ESRCH') continue;
      throw new ProviderError(`Cannot send ${signal} to process ${pid}: ${errorMessage(error)}`, true);
    }
  }
}

/** Waits until the workload has exited; false if it is still running after `timeoutMs`. */
export async function waitForExit(
  pid: number,
  instanceId: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<boolean> {
  if (child) {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    // The child is unref'd, so this (ref'd) timer is what keeps a caller such as a shutdown
    // sequence alive until the exit is seen.
    return new Promise((resolve) => {
      const onExit = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        child.off('exit', onExit);
        resolve(false);
      }, timeoutMs);
      child.once('exit', onExit);
    });
  }
  const deadline = Date.now() + timeoutMs;
  while (await isOurProcess(pid, instanceId)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

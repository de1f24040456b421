import type { ChildProcess } from 'node:child_process';
import { isOurProcess } from './process-control.ts';

export interface ProcessExit {
  instanceId: string;
  providerInstanceId: string;
  pid: number;
  /** Known only for our own children; an adopted process's parent was an earlier runtime. */
  code: number | null;
  signal: string | null;
}

interface Watched {
  pid: number;
  providerInstanceId: string;
  child?: ChildProcess;
  detach?: () => void;
  /** Settles once the child's exit has been handed to `onExit` and handled. */
  exitHandled?: Promise<void>;
}

/**
 * Notices when watched workloads exit, one entry per instance. Our own children report through
 * their exit event (which carries the exit code); processes adopted from an earlier runtime
 * cannot, so they are polled (signal 0 plus the command-line check) on one unref'd timer that
 * runs only while something adopted is watched.
 */
export class ExitWatcher {
  private readonly watched = new Map<string, Watched>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  constructor(
    private readonly onExit: (exit: ProcessExit) => Promise<void>,
    private readonly pollMs: number,
  ) {}

  watchChild(instanceId: string, providerInstanceId: string, pid: number, child: ChildProcess): void {
    this.unwatch(instanceId);
    let detach = (): void => undefined;
    const exitHandled = new Promise<void>((resolve) => {
      const onChildExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.forget(instanceId, pid);
        void this.onExit({ instanceId, providerInstanceId, pid, code, signal }).finally(resolve);
      };
      child.once('exit', onChildExit);
      detach = () => {
        child.off('exit', onChildExit);
        resolve();
      };
    });
    this.watched.set(instanceId, { pid, providerInstanceId, child, detach, exitHandled });
  }

  /** Watch a live process that is not our child; a no-op when it is already watched. */
  adopt(instanceId: string, providerInstanceId: string, pid: number): void {
    if (this.closed || this.watched.get(instanceId)?.pid === pid) return;
    this.unwatch(instanceId);
    this.watched.set(instanceId, { pid, providerInstanceId });
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.pollAdopted(), this.pollMs);
      this.pollTimer.unref(); // never the reason the runtime stays up
    }
  }

  /** Stop watching (the exit that follows is expected); returns our child handle, if any. */
  unwatch(instanceId: string): ChildProcess | undefined {
    const entry = this.watched.get(instanceId);
    if (!entry) return undefined;
    this.watched.delete(instanceId);
    entry.detach?.();
    this.stopPollingIfIdle();
    return entry.child;
  }

  /** For our child `pid`: settles once its exit has been handled. Undefined otherwise. */
  exitHandled(instanceId: string, pid: number): Promise<void> | undefined {
    const entry = this.watched.get(instanceId);
    return entry?.pid === pid ? entry.exitHandled : undefined;
  }

  instanceIds(): string[] {
    return [...this.watched.keys()];
  }

  /** Forget everything and stop polling; the processes themselves keep running. */
  close(): void {
    this.closed = true;
    for (const instanceId of this.instanceIds()) this.unwatch(instanceId);
  }

  private forget(instanceId: string, pid: number): void {
    if (this.watched.get(instanceId)?.pid !== pid) return;
    this.watched.delete(instanceId);
    this.stopPollingIfIdle();
  }

  private stopPollingIfIdle(): void {
    const anyAdopted = [...this.watched.values()].some((entry) => !entry.child);
    if (!anyAdopted && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private async pollAdopted(): Promise<void> {
    if (this.polling) return; // a slow tick must not overlap the next
    this.polling = true;
    try {
      const adopted = [...this.watched.entries()].filter(([, entry]) => !entry.child);
      await Promise.all(
        adopted.map(async ([instanceId, { pid, providerInstanceId }]) => {
          if (await isOurProcess(pid, instanceId)) return;
          // Unwatched while we looked (stopped, terminated): that exit was asked for.
          if (this.watched.get(instanceId)?.pid !== pid) return;
          this.forget(instanceId, pid);
          await this.onExit({ instanceId, providerInstanceId, pid, code: null, signal: null });
        }),
      );
    } finally {
      this.polling = false;
    }
  }
}

import type { SyncDispatcher, SyncRun } from '../../ports/sync-dispatcher.ts';

/**
 * Runs sync jobs in this process. `wait: false` (the local runtime) returns at once like an
 * asynchronous invocation; `settle()` lets shutdown and tests wait for what is running.
 */
export function inProcessSyncDispatcher(
  run: (run: SyncRun) => Promise<unknown>,
  options: { wait?: boolean; onError?: (error: unknown) => void } = {},
): SyncDispatcher & { settle(): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  return {
    async dispatch(request) {
      if (options.wait) {
        await run(request);
        return;
      }
      const task = run(request).catch((error) => (options.onError ?? console.error)(error));
      running.add(task);
      void task.finally(() => running.delete(task));
    },
    async settle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

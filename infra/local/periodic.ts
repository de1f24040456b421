/**
 * A background pass on a cadence, the local runtime's stand-in for an EventBridge schedule: a
 * tick that comes while the previous pass still runs is skipped rather than started beside it
 * (on a large table a pass can outlast its interval), and stopping waits for the pass in flight.
 */
export interface Periodic {
  stop(): Promise<void>;
}

export function every(intervalMs: number, pass: () => Promise<unknown>, onError: (error: unknown) => void): Periodic {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = pass().then(
      () => undefined,
      (error) => onError(error),
    );
    running.finally(() => (running = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

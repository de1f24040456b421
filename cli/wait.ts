import ora, { type Ora } from 'ora';
import type { ApiClient } from './api-client.ts';
import { ApiError, CliError } from './errors.ts';
import { duration, timestamp } from './format.ts';
import { type OutputStream, writeLine } from './io.ts';
import type { InstanceResponse, InstanceView } from './types.ts';

/**
 * `--wait`: poll GET /api/instances/{id} until the instance reaches one of `until`.
 *
 * On a terminal (and not in CI) the progress is an `ora` spinner whose text shows the path so
 * far (PENDING → PROVISIONING → CONFIGURING); elsewhere each status change is one line, so
 * logs stay readable. Reaching ERROR (or another state in `failOn`) or the timeout is a
 * `CliError` (exit 1) carrying the instance's `errorMessage`.
 */
export interface WaitOptions {
  client: ApiClient;
  id: string;
  until: readonly string[];
  failOn: readonly string[];
  /** The state already known (from the create or delete response); shown first. */
  initial?: InstanceView;
  /** Treat 404 as success (the instance is gone): used when waiting for termination. */
  goneIsSuccess?: boolean;
  timeoutMs: number;
  intervalMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  progress: OutputStream;
  env: Record<string, string | undefined>;
}

export interface WaitResult {
  /** The last response read; undefined when the instance disappeared (404) under goneIsSuccess. */
  payload?: InstanceResponse;
  history: string[];
}

interface Progress {
  change(instance: InstanceView, elapsedMs: number): void;
  tick(elapsedMs: number): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export function spinnerWanted(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.CI && env.TERM !== 'dumb';
}

export async function waitForStatus(options: WaitOptions): Promise<WaitResult> {
  const { client, id, until, failOn, now } = options;
  const started = now().getTime();
  const elapsed = () => now().getTime() - started;
  const history: string[] = [];
  const progress = spinnerWanted(options.progress, options.env)
    ? spinnerProgress(options.progress, id, history, until)
    : lineProgress(options.progress, id, now);

  let last: string | undefined;
  const observe = (instance: InstanceView) => {
    if (instance.status !== last) {
      last = instance.status;
      history.push(instance.status);
      progress.change(instance, elapsed());
    } else {
      progress.tick(elapsed());
    }
  };
  if (options.initial) observe(options.initial);

  for (;;) {
    let payload: InstanceResponse;
    try {
      payload = await client.get<InstanceResponse>(`/api/instances/${encodeURIComponent(id)}`);
    } catch (error) {
      if (options.goneIsSuccess && error instanceof ApiError && error.status === 404) {
        progress.succeed(`${id} is gone`);
        return { history };
      }
      progress.fail(`${id}: stopped waiting`);
      throw error;
    }
    const instance = payload.instance;
    observe(instance);
    if (until.includes(instance.status)) {
      progress.succeed(`${id} is ${instance.status} (${history.join(' → ')}, ${duration(elapsed())})`);
      return { payload, history };
    }
    if (failOn.includes(instance.status)) {
      progress.fail(`${id} is ${instance.status} (${history.join(' → ')})`);
      const reason = instance.errorMessage ? `: ${instance.errorMessage}` : '';
      const wanted = until.join(' or ');
      throw new CliError(
        instance.status === 'ERROR'
          ? `Instance ${id} failed${reason || ' (no error message was recorded)'}`
          : `Instance ${id} reached ${instance.status} instead of ${wanted}${reason}`,
      );
    }
    const remaining = options.timeoutMs - elapsed();
    if (remaining <= 0) {
      progress.fail(`${id} is still ${instance.status}`);
      throw new CliError(
        `Timed out after ${duration(options.timeoutMs)} waiting for ${id} to reach ${until.join(' or ')} (last status: ${instance.status}).`,
        [`It may still get there: follow it with \`hangar watch ${id}\`.`],
      );
    }
    await options.sleep(Math.min(options.intervalMs, remaining));
  }
}

function lineProgress(stream: OutputStream, id: string, now: () => Date): Progress {
  return {
    change(instance) {
      writeLine(stream, `${timestamp(now().toISOString())}  ${id}  ${instance.status}`);
    },
    tick() {},
    succeed() {},
    fail() {},
  };
}

function spinnerProgress(stream: OutputStream, id: string, history: string[], until: readonly string[]): Progress {
  let spinner: Ora | undefined;
  const text = (elapsedMs: number) =>
    `Waiting for ${id} to be ${until.join(' or ')}: ${history.join(' → ')} (${duration(elapsedMs)})`;
  const ensure = () => {
    spinner ??= ora({ stream, isEnabled: true, discardStdin: false, text: `Waiting for ${id}` }).start();
    return spinner;
  };
  return {
    change(_instance, elapsedMs) {
      ensure().text = text(elapsedMs);
    },
    tick(elapsedMs) {
      ensure().text = text(elapsedMs);
    },
    succeed(message) {
      ensure().succeed(message);
    },
    fail(message) {
      ensure().fail(message);
    },
  };
}

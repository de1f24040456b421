import ora, { type Ora } from 'ora';
import type { ApiClient } from './api-client.ts';
import { ApiError, CliError } from './errors.ts';
import { duration, timestamp } from './format.ts';
import { type OutputStream, writeLine } from './io.ts';
import type { EventsPage, InstanceEventView, InstanceResponse, InstanceView } from './types.ts';

/**
 * `--wait`: poll GET /api/instances/{id} until the instance reaches one of `until`, reading
 * GET /api/instances/{id}/events after each poll so the workflow's steps show as they happen.
 *
 * On a terminal (and not in CI) the progress is an `ora` spinner whose text shows the path so
 * far (PENDING → PROVISIONING → CONFIGURING) and, below it, the latest event's time and
 * message; elsewhere each new event and each status change is one line, so logs stay
 * readable. Reaching ERROR (or another state in `failOn`) or the timeout is a `CliError`
 * (exit 1) carrying the instance's `errorMessage`.
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
  /**
   * Show only events at or after this server time: the `updatedAt` of the action's response,
   * so an action's wait shows what the action caused, not the instance's whole history.
   * Absent: every event is shown (create: the history is the creation).
   */
  eventsSince?: string | null;
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
  event(event: InstanceEventView, elapsedMs: number): void;
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
  const feed = new EventFeed(client, id, options.eventsSince);

  for (;;) {
    let payload: InstanceResponse;
    let fresh: InstanceEventView[];
    try {
      payload = await client.get<InstanceResponse>(`/api/instances/${encodeURIComponent(id)}`);
      // After the instance, so every event up to the status just read is among those read.
      fresh = await feed.next();
    } catch (error) {
      if (options.goneIsSuccess && error instanceof ApiError && error.status === 404) {
        progress.succeed(`${id} is gone`);
        return { history };
      }
      progress.fail(`${id}: stopped waiting`);
      throw error;
    }
    for (const event of fresh) progress.event(event, elapsed());
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

/** What an event says in progress output: its message, or its type when it has none. */
export function eventMessage(event: InstanceEventView): string {
  return (event.message || event.type).replace(/\s*\n\s*/g, ' ');
}

/**
 * An instance's event log read a page at a time: `next()` returns the events not returned
 * before, oldest first. It resumes from the last page it read (the log only grows at its
 * end), so a long history is not read again on every poll.
 *
 * Events are progress decoration, the instance's status decides: when the log cannot be read
 * (an older server without the route, a role that may not read it) the feed goes quiet and
 * the wait carries on. Network failures are thrown, as they are for the status read.
 */
export class EventFeed {
  private resumeCursor: string | undefined;
  private readonly seen = new Set<string>();
  private readonly since: number | undefined;
  private quiet = false;

  constructor(
    private readonly client: ApiClient,
    private readonly id: string,
    since?: string | null,
  ) {
    const ms = since ? Date.parse(since) : Number.NaN;
    this.since = Number.isNaN(ms) ? undefined : ms;
  }

  async next(): Promise<InstanceEventView[]> {
    if (this.quiet) return [];
    const path = `/api/instances/${encodeURIComponent(this.id)}/events`;
    const fresh: InstanceEventView[] = [];
    const followed = new Set<string>();
    let cursor = this.resumeCursor;
    for (let pages = 0; pages < MAX_EVENT_PAGES_PER_POLL; pages++) {
      let page: EventsPage;
      try {
        page = await this.client.get<EventsPage>(path, { cursor });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        this.quiet = true;
        return fresh;
      }
      this.resumeCursor = cursor;
      for (const event of Array.isArray(page.events) ? page.events : []) {
        const key = event.eventId ?? `${event.at}|${event.type}|${event.message ?? ''}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        if (this.since !== undefined && Date.parse(event.at) < this.since) continue;
        fresh.push(event);
      }
      const next = page.nextCursor ?? undefined;
      if (!next || followed.has(next)) break;
      followed.add(next);
      cursor = next;
    }
    return fresh;
  }
}

/** Pages read per poll at most; the rest waits for the next poll. */
const MAX_EVENT_PAGES_PER_POLL = 20;

function lineProgress(stream: OutputStream, id: string, now: () => Date): Progress {
  return {
    change(instance) {
      writeLine(stream, `${timestamp(now().toISOString())}  ${id}  ${instance.status}`);
    },
    event(event) {
      writeLine(stream, `${timestamp(event.at)}  ${id}  · ${eventMessage(event)}`);
    },
    tick() {},
    succeed() {},
    fail() {},
  };
}

function spinnerProgress(stream: OutputStream, id: string, history: string[], until: readonly string[]): Progress {
  /** The latest event, shown on the line under the path until the next one replaces it. */
  let latest = '';
  const spinner = lazySpinner(stream, `Waiting for ${id}`, (elapsedMs) =>
    `Waiting for ${id} to be ${until.join(' or ')}: ${history.join(' → ')} (${duration(elapsedMs)})${latest ? `\n  ${latest}` : ''}`,
  );
  return {
    change: (_instance, elapsedMs) => spinner.show(elapsedMs),
    event(event, elapsedMs) {
      latest = `${timestamp(event.at)}  ${eventMessage(event)}`;
      spinner.show(elapsedMs);
    },
    tick: spinner.tick,
    succeed: spinner.succeed,
    fail: spinner.fail,
  };
}

/** A spinner started on first use, whose text is worked out from the time waited so far. */
export function lazySpinner(stream: OutputStream, initial: string, text: (elapsedMs: number) => string) {
  let spinner: Ora | undefined;
  const ensure = () => (spinner ??= ora({ stream, isEnabled: true, discardStdin: false, text: initial }).start());
  return {
    /** Set the text and draw it now rather than at the next frame, so no step goes unseen. */
    show(elapsedMs: number) {
      const s = ensure();
      s.text = text(elapsedMs);
      s.render();
    },
    tick(elapsedMs: number) {
      ensure().text = text(elapsedMs);
    },
    succeed(message: string) {
      ensure().succeed(message);
    },
    fail(message: string) {
      ensure().fail(message);
    },
  };
}

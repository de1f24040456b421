import type { Command } from 'commander';
import { ApiClient } from './api-client.ts';
import { type CliIO, type OutputStream, realSleep } from './io.ts';

export const DEFAULT_URL = 'http://localhost:3000';

/** The program-wide options every command sees. */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** What a command action works with: the API client, the streams, and the global switches. */
export interface Context {
  io: CliIO;
  client: ApiClient;
  json: boolean;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Where progress goes: stdout normally, stderr under --json so stdout stays pure JSON. */
  progress: OutputStream;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  pollIntervalMs: number;
}

export function contextFor(command: Command, io: CliIO): Context {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const json = globals.json === true;
  const sleep = io.sleep ?? realSleep;
  const client = new ApiClient({
    baseUrl: globals.url ?? io.env.HANGAR_URL ?? DEFAULT_URL,
    apiKey: globals.apiKey ?? io.env.HANGAR_API_KEY,
    fetch: io.fetch,
    sleep,
  });
  return {
    io,
    client,
    json,
    stdout: io.stdout,
    stderr: io.stderr,
    progress: json ? io.stderr : io.stdout,
    sleep,
    now: io.now ?? (() => new Date()),
    pollIntervalMs: io.pollIntervalMs ?? 1000,
  };
}

/** `(opts, command)` → `(ctx, opts)`, so each action gets a ready context. */
export function withContext<O, A extends unknown[]>(
  io: CliIO,
  action: (ctx: Context, options: O, ...args: A) => Promise<void>,
): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    // Commander calls actions with (...arguments, options, command).
    const command = params[params.length - 1] as Command;
    const options = params[params.length - 2] as O;
    const args = params.slice(0, -2) as A;
    await action(contextFor(command, io), options, ...args);
  };
}

/** How this invocation polls: the parts of a wait that come from the context, not the command. */
export function pollingFrom(ctx: Context) {
  return {
    client: ctx.client,
    intervalMs: ctx.pollIntervalMs,
    sleep: ctx.sleep,
    now: ctx.now,
    progress: ctx.progress,
    env: ctx.io.env,
  };
}

/**
 * Everything the CLI touches outside itself, passed in so tests can run commands in-process
 * against a fake API and read what was printed.
 */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to a real timer; tests make waiting instant. */
  sleep?: (ms: number) => Promise<void>;
  /** Poll period for `--wait` (default 1000 ms). `watch` uses its own `--interval`. */
  pollIntervalMs?: number;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function writeLine(stream: OutputStream, line = ''): void {
  stream.write(`${line}\n`);
}

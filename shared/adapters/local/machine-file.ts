import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProviderError, ValidationError } from '../../domain/errors.ts';

/**
 * What machine.json says Hangar wants and last saw. `running` means "should be up"; `stopping`
 * and `stopped` mean Hangar asked it to go down (so an exit is expected); `crashed` means it died
 * without being asked, and `exit` says how.
 */
export type MachineFileStatus = 'running' | 'stopping' | 'stopped' | 'crashed';

export interface MachineExit {
  pid: number;
  code: number | null;
  signal: string | null;
  reason: string;
  at: string;
}

export interface MachineRecord {
  providerInstanceId: string;
  instanceId: string;
  clientId: string;
  name: string;
  image: string;
  status: MachineFileStatus;
  /** The process of the current run; null once stopped. */
  pid: number | null;
  port: number | null;
  createdAt: string;
  /** When the current (or last) process was spawned. */
  startedAt: string;
  /** When the current process first answered its health check. */
  readyAt?: string;
  stoppedAt?: string;
  exit?: MachineExit;
}

export interface InstancePaths {
  dir: string;
  dataDir: string;
  machineFile: string;
  stdoutLog: string;
  stderrLog: string;
}

// Instance ids become directory names: refuse anything that could climb out of rootDir.
const SAFE_INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function instancePaths(rootDir: string, instanceId: string): InstancePaths {
  if (!SAFE_INSTANCE_ID.test(instanceId) || instanceId.includes('..')) {
    throw new ValidationError(`Instance id '${instanceId}' cannot name a LOCAL machine directory`);
  }
  const dir = join(rootDir, instanceId);
  return {
    dir,
    dataDir: join(dir, 'data'),
    machineFile: join(dir, 'machine.json'),
    stdoutLog: join(dir, 'stdout.log'),
    stderrLog: join(dir, 'stderr.log'),
  };
}

function isMachineRecord(value: unknown): value is MachineRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<MachineRecord>;
  return (
    typeof record.providerInstanceId === 'string' &&
    typeof record.instanceId === 'string' &&
    typeof record.image === 'string' &&
    typeof record.status === 'string' &&
    (record.pid === null || typeof record.pid === 'number')
  );
}

/** The record, or null when there is none (never launched, or terminated). */
export async function readMachineFile(paths: InstancePaths): Promise<MachineRecord | null> {
  let text: string;
  try {
    text = await readFile(paths.machineFile, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return null;
    throw new ProviderError(`Cannot read ${paths.machineFile}: ${errorMessage(error)}`, true);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProviderError(`${paths.machineFile} is not valid JSON: ${errorMessage(error)}`);
  }
  if (!isMachineRecord(parsed)) throw new ProviderError(`${paths.machineFile} is not a LOCAL machine record`);
  return parsed;
}

/** Write via a temporary file and rename, so a crash mid-write never leaves half a record. */
export async function writeMachineFile(paths: InstancePaths, record: MachineRecord): Promise<void> {
  const temporary = `${paths.machineFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, 'utf8');
  await rename(temporary, paths.machineFile);
}

// Node's own trailer after an uncaught exception says nothing about the cause.
const UNINFORMATIVE_LINE = /^Node\.js v\d/;

/** The last meaningful line of a log (read from its tail only), or undefined. */
export async function lastLogLine(file: string, maxBytes = 4096): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !UNINFORMATIVE_LINE.test(line));
    const last = lines.at(-1);
    return last && last.length > 300 ? `${last.slice(0, 297)}...` : last;
  } finally {
    await handle.close();
  }
}

export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

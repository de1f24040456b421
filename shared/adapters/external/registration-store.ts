import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ProviderError } from '../../domain/errors.ts';
import type { ExternalRegistration, ExternalRegistrationRepository } from '../../ports/external-registration-repository.ts';

/** One endpoint Hangar registered (the port's shape; this file store predates the table). */
export type Registration = ExternalRegistration;

interface StateFile {
  version: 1;
  registrations: Registration[];
}

function isRegistration(value: unknown): value is Registration {
  const r = value as Partial<Registration> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.instanceId === 'string' &&
    typeof r.providerInstanceId === 'string' &&
    typeof r.endpoint === 'string' &&
    (r.healthPath === undefined || typeof r.healthPath === 'string') &&
    typeof r.registeredAt === 'string'
  );
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Registrations in a JSON file, as the local runtime kept them before they moved to the table:
 * what a single process without a table can use, and what the runtime migrates at start.
 */
export class FileExternalRegistrationRepository implements ExternalRegistrationRepository {
  private readonly store: RegistrationStore;

  constructor(file: string) {
    this.store = new RegistrationStore(file);
  }

  async get(instanceId: string): Promise<ExternalRegistration | null> {
    return (await this.store.all()).get(instanceId) ?? null;
  }

  register(registration: ExternalRegistration): Promise<ExternalRegistration> {
    return this.store.update((registrations) => {
      const first = registrations.get(registration.instanceId);
      if (first) return { result: first, changed: false };
      registrations.set(registration.instanceId, registration);
      return { result: registration, changed: true };
    });
  }

  remove(instanceId: string): Promise<void> {
    return this.store.update((registrations) => ({ result: undefined, changed: registrations.delete(instanceId) }));
  }

  async list(): Promise<ExternalRegistration[]> {
    return [...(await this.store.all()).values()];
  }
}

/**
 * Move a local runtime's registrations file into the repository once: every registration is
 * written (one already there stays), then the file is renamed to `<file>.migrated` so the next
 * start does nothing and the user keeps a copy. Answers how many were moved; no file, none.
 */
export async function migrateRegistrationsFile(file: string, into: ExternalRegistrationRepository): Promise<number> {
  try {
    await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const registrations = await new RegistrationStore(file).all();
  for (const registration of registrations.values()) await into.register(registration);
  await rename(file, `${file}.migrated`);
  return registrations.size;
}

/**
 * The registrations, by Hangar instance id: in memory, and in a JSON file when one is given.
 * With a file, every read goes to the file (it is small), so another provider object or
 * process on the same file sees the same registrations; writes in this process run one at a
 * time and replace the file atomically (temporary file, fsync, rename).
 */
export class RegistrationStore {
  private readonly memory = new Map<string, Registration>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly file?: string) {}

  async all(): Promise<Map<string, Registration>> {
    if (!this.file) return new Map(this.memory);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new ProviderError(`Cannot read EXTERNAL registrations from ${this.file}: ${message(error)}`, 'fatal');
    }
    let parsed: Partial<StateFile>;
    try {
      parsed = JSON.parse(text) as Partial<StateFile>;
    } catch (error) {
      throw new ProviderError(`EXTERNAL registrations file ${this.file} is not valid JSON (${message(error)}); fix or remove it`, 'fatal');
    }
    if (!Array.isArray(parsed.registrations) || !parsed.registrations.every(isRegistration)) {
      throw new ProviderError(`EXTERNAL registrations file ${this.file} does not hold registrations; fix or remove it`, 'fatal');
    }
    return new Map(parsed.registrations.map((registration) => [registration.instanceId, registration]));
  }

  /**
   * Read, change and write back, one change at a time. `change` edits the map in place and
   * returns its result; nothing is written when it returns without changing the map.
   */
  update<T>(change: (registrations: Map<string, Registration>) => { result: T; changed: boolean }): Promise<T> {
    const run = this.tail.then(async () => {
      const registrations = await this.all();
      const { result, changed } = change(registrations);
      if (changed) await this.save(registrations);
      return result;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async save(registrations: Map<string, Registration>): Promise<void> {
    if (!this.file) {
      this.memory.clear();
      for (const [key, value] of registrations) this.memory.set(key, value);
      return;
    }
    const state: StateFile = {
      version: 1,
      registrations: [...registrations.values()].sort((a, b) => a.registeredAt.localeCompare(b.registeredAt)),
    };
    const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw new ProviderError(`Cannot save EXTERNAL registrations to ${this.file}: ${message(error)}`, 'transient');
    }
  }
}

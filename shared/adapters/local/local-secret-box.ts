import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type LocalSealedSecret, type SealedSecret, type SecretBox, type SecretContext } from '../../ports/secret-box.ts';
import { gcmOpen, gcmSeal, SecretBoxError } from '../crypto/aes-gcm.ts';

/**
 * The key file: every key ever used (so old secrets still open after a rotation) and the one
 * new secrets are sealed with. Keys are 32 random bytes, base64.
 */
interface KeyRingFile {
  format: typeof KEY_RING_FORMAT;
  current: string;
  keys: Record<string, string>;
}

interface KeyRing {
  current: string;
  keys: Map<string, Buffer>;
}

const KEY_RING_FORMAT = 'hangar-key-ring/1';
const KEY_BYTES = 32;

/** A key's id is a fingerprint of it, so two files can never disagree on what an id means. */
const keyIdOf = (key: Buffer) => `local-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

/**
 * AES-256-GCM under a key kept in a file readable by its owner only (the local runtime's
 * `.hangar/secret.key`). The file is created on first use and reused after; it is the only
 * copy of the key, so losing it loses every secret sealed with it.
 */
export class LocalSecretBox implements SecretBox {
  private ring: Promise<KeyRing> | undefined;

  constructor(private readonly source: { keyFile: string } | { key: Uint8Array }) {}

  /** A box whose key lives only in this process: for tests and throwaway runtimes. */
  static inMemory(): LocalSecretBox {
    return new LocalSecretBox({ key: randomBytes(KEY_BYTES) });
  }

  async seal(plaintext: string, context: SecretContext): Promise<LocalSealedSecret> {
    const ring = await this.keyRing();
    const key = ring.keys.get(ring.current)!;
    return { scheme: 'local-aes-256-gcm', keyId: ring.current, ...gcmSeal(key, plaintext, context) };
  }

  async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
    if (sealed?.scheme !== 'local-aes-256-gcm') {
      throw new SecretBoxError(`This secret was sealed with '${String(sealed?.scheme)}', which the local secret box cannot open`);
    }
    const key = (await this.keyRing()).keys.get(sealed.keyId);
    if (!key) throw new SecretBoxError(`This secret was sealed with key '${sealed.keyId}', which this key file does not hold`);
    return gcmOpen(key, sealed, context);
  }

  /** Make a new key current; older keys stay to open what they sealed. Returns the new key id. */
  async rotate(): Promise<string> {
    const ring = await this.keyRing();
    const key = randomBytes(KEY_BYTES);
    const keyId = keyIdOf(key);
    const next: KeyRing = { current: keyId, keys: new Map([...ring.keys, [keyId, key]]) };
    if ('keyFile' in this.source) await replaceKeyFile(this.source.keyFile, next);
    this.ring = Promise.resolve(next);
    return keyId;
  }

  private keyRing(): Promise<KeyRing> {
    this.ring ??= (async () => {
      if ('key' in this.source) {
        const key = Buffer.from(this.source.key);
        if (key.length !== KEY_BYTES) throw new SecretBoxError(`The local secret box needs a ${KEY_BYTES}-byte key`);
        return { current: keyIdOf(key), keys: new Map([[keyIdOf(key), key]]) };
      }
      return loadOrCreateKeyFile(this.source.keyFile);
    })();
    // A failed load (unreadable file) is not cached: the next call tries again.
    this.ring.catch(() => (this.ring = undefined));
    return this.ring;
  }
}

async function loadOrCreateKeyFile(file: string): Promise<KeyRing> {
  const existing = await readKeyFile(file);
  if (existing) return existing;
  const key = randomBytes(KEY_BYTES);
  const ring: KeyRing = { current: keyIdOf(key), keys: new Map([[keyIdOf(key), key]]) };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // Exclusive: when two processes start at once, one key wins and both use it.
    await writeFile(file, serialise(ring), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readKeyFile(file))!;
    throw error;
  }
  await chmod(file, 0o600);
  return ring;
}

async function readKeyFile(file: string): Promise<KeyRing | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const ring = parse(file, text);
  // Someone loosened it (a copy, an editor): only the owner may read the key.
  if (process.platform !== 'win32' && ((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return ring;
}

function parse(file: string, text: string): KeyRing {
  const invalid = (why: string) =>
    new SecretBoxError(`Key file ${file} is not a Hangar key ring (${why}); restore it from a backup rather than deleting it`);
  let data: Partial<KeyRingFile>;
  try {
    data = JSON.parse(text) as Partial<KeyRingFile>;
  } catch {
    throw invalid('not JSON');
  }
  if (data.format !== KEY_RING_FORMAT || typeof data.current !== 'string' || typeof data.keys !== 'object' || !data.keys) {
    throw invalid(`expected format '${KEY_RING_FORMAT}' with current and keys`);
  }
  const keys = new Map<string, Buffer>();
  for (const [id, encoded] of Object.entries(data.keys)) {
    const key = Buffer.from(String(encoded), 'base64');
    if (key.length !== KEY_BYTES || keyIdOf(key) !== id) throw invalid(`key '${id}' is damaged`);
    keys.set(id, key);
  }
  if (!keys.has(data.current)) throw invalid(`the current key '${data.current}' is missing`);
  return { current: data.current, keys };
}

const serialise = (ring: KeyRing): string =>
  `${JSON.stringify(
    {
      format: KEY_RING_FORMAT,
      current: ring.current,
      keys: Object.fromEntries([...ring.keys].map(([id, key]) => [id, key.toString('base64')])),
    } satisfies KeyRingFile,
    null,
    2,
  )}\n`;

/** Write beside, then rename: a crash mid-write never leaves a half key file. */
async function replaceKeyFile(file: string, ring: KeyRing): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, serialise(ring), { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

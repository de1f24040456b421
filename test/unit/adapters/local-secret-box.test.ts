import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretBox } from '../../../shared/adapters/local/local-secret-box.ts';
import type { LocalSealedSecret } from '../../../shared/ports/secret-box.ts';
import { SecretBoxError } from '../../../shared/adapters/crypto/aes-gcm.ts';

const SECRET = JSON.stringify({ authUrl: 'https://keystone.example.com:5000/v3', username: 'demo', password: 'correct horse battery staple' });
const CONTEXT = { purpose: 'hangar:account-credentials', clientId: 'client-abc', accountId: 'account-123' };

let dir: string;
let keyFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-secret-box-'));
  keyFile = join(dir, '.hangar', 'secret.key');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const flip = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64');
};

describe('LocalSecretBox', () => {
  it('opens what it sealed, under the same context', async () => {
    const box = new LocalSecretBox({ keyFile });
    const sealed = await box.seal(SECRET, CONTEXT);
    expect(sealed).toMatchObject({ scheme: 'local-aes-256-gcm', keyId: expect.stringMatching(/^local-[0-9a-f]{16}$/) });
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
    // The context is a set of names, not a sequence: any order opens.
    const reordered = { accountId: CONTEXT.accountId, clientId: CONTEXT.clientId, purpose: CONTEXT.purpose };
    await expect(box.open(sealed, reordered)).resolves.toBe(SECRET);
  });

  it('keeps no trace of the plaintext in the sealed secret, and uses a fresh IV every time', async () => {
    const box = new LocalSecretBox({ keyFile });
    const first = await box.seal(SECRET, CONTEXT);
    const second = await box.seal(SECRET, CONTEXT);
    const stored = JSON.stringify(first);
    expect(stored).not.toContain('correct horse');
    expect(Buffer.from(first.ciphertext, 'base64').toString('latin1')).not.toContain('correct horse');
    expect(stored).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 16));
    expect(first.iv).not.toBe(second.iv);
    expect(first.ciphertext).not.toBe(second.ciphertext);
    // JSON-serialisable: what is stored opens again.
    await expect(box.open(JSON.parse(stored) as LocalSealedSecret, CONTEXT)).resolves.toBe(SECRET);
  });

  it('refuses to open under another context', async () => {
    const box = new LocalSecretBox({ keyFile });
    const sealed = await box.seal(SECRET, CONTEXT);
    await expect(box.open(sealed, { ...CONTEXT, accountId: 'account-456' })).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box.open(sealed, { ...CONTEXT, extra: 'x' })).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box.open(sealed, {})).rejects.toThrow(/wrong key, wrong context, or altered data/);
  });

  it('refuses altered ciphertext, tag or IV', async () => {
    const box = new LocalSecretBox({ keyFile });
    const sealed = await box.seal(SECRET, CONTEXT);
    await expect(box.open({ ...sealed, ciphertext: flip(sealed.ciphertext) }, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box.open({ ...sealed, tag: flip(sealed.tag) }, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box.open({ ...sealed, iv: flip(sealed.iv) }, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box.open({ ...sealed, tag: '' }, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('refuses a secret sealed under another key', async () => {
    const sealed = await LocalSecretBox.inMemory().seal(SECRET, CONTEXT);
    await expect(new LocalSecretBox({ keyFile }).open(sealed, CONTEXT)).rejects.toThrow(/which this key file does not hold/);
    const forged = { ...(await new LocalSecretBox({ keyFile }).seal(SECRET, CONTEXT)), ciphertext: sealed.ciphertext, iv: sealed.iv, tag: sealed.tag };
    await expect(new LocalSecretBox({ keyFile }).open(forged, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('creates the key file once, readable by its owner only, and reuses it', async () => {
    const sealed = await new LocalSecretBox({ keyFile }).seal(SECRET, CONTEXT);
    const info = await stat(keyFile);
    if (process.platform !== 'win32') expect(info.mode & 0o777).toBe(0o600);
    const contents = await readFile(keyFile, 'utf8');
    const ring = JSON.parse(contents) as { current: string; keys: Record<string, string> };
    expect(ring.current).toBe(sealed.keyId);
    expect(Buffer.from(ring.keys[sealed.keyId]!, 'base64')).toHaveLength(32);

    // Another process (another box over the same file) opens it, and the file is not rewritten.
    const again = new LocalSecretBox({ keyFile });
    await expect(again.open(sealed, CONTEXT)).resolves.toBe(SECRET);
    expect((await again.seal('other', CONTEXT)).keyId).toBe(sealed.keyId);
    expect(await readFile(keyFile, 'utf8')).toBe(contents);
    expect((await stat(keyFile)).mtimeMs).toBe(info.mtimeMs);
  });

  it('agrees on one key when two boxes create the file at once', async () => {
    const [a, b] = [new LocalSecretBox({ keyFile }), new LocalSecretBox({ keyFile })];
    const [fromA, fromB] = await Promise.all([a.seal('a', CONTEXT), b.seal('b', CONTEXT)]);
    expect(fromA.keyId).toBe(fromB.keyId);
    await expect(a.open(fromB, CONTEXT)).resolves.toBe('b');
  });

  it('rotates: new secrets use the new key, old ones still open', async () => {
    const box = new LocalSecretBox({ keyFile });
    const old = await box.seal(SECRET, CONTEXT);
    const newKeyId = await box.rotate();
    expect(newKeyId).not.toBe(old.keyId);
    const fresh = await box.seal(SECRET, CONTEXT);
    expect(fresh.keyId).toBe(newKeyId);
    const reopened = new LocalSecretBox({ keyFile });
    await expect(reopened.open(old, CONTEXT)).resolves.toBe(SECRET);
    await expect(reopened.open(fresh, CONTEXT)).resolves.toBe(SECRET);
    if (process.platform !== 'win32') expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged key file rather than replacing it', async () => {
    await new LocalSecretBox({ keyFile }).seal(SECRET, CONTEXT);
    await writeFile(keyFile, 'not a key ring');
    await expect(new LocalSecretBox({ keyFile }).seal(SECRET, CONTEXT)).rejects.toThrow(/is not a Hangar key ring/);
    expect(await readFile(keyFile, 'utf8')).toBe('not a key ring');
  });

  it('refuses secrets of another scheme', async () => {
    const kmsSealed = { scheme: 'kms-envelope-aes-256-gcm' as const, keyId: 'arn:k', encryptedDataKey: 'AA==', iv: '', tag: '', ciphertext: '' };
    await expect(LocalSecretBox.inMemory().open(kmsSealed, CONTEXT)).rejects.toThrow(/cannot open/);
  });
});

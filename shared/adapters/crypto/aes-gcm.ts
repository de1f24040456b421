import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { GcmBox, SecretContext } from '../../ports/secret-box.ts';

/** The sealed secret cannot be opened (wrong key, wrong context, altered bytes) or sealed. */
export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretBoxError';
  }
}

/**
 * The context as additional authenticated data: keys sorted, so the same context always gives
 * the same bytes whatever order it was written in.
 */
export function contextAad(context: SecretContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

const IV_BYTES = 12;
const KEY_BYTES = 32;

/** AES-256-GCM with a fresh random IV and the context bound as AAD. */
export function gcmSeal(key: Uint8Array, plaintext: string, context: SecretContext): GcmBox {
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`An AES-256 key has ${KEY_BYTES} bytes, not ${key.length}`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(contextAad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

export function gcmOpen(key: Uint8Array, box: GcmBox, context: SecretContext): string {
  try {
    const iv = Buffer.from(box.iv, 'base64');
    const tag = Buffer.from(box.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== 16) throw new Error('malformed iv or tag');
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(contextAad(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new SecretBoxError('The sealed secret could not be opened: wrong key, wrong context, or altered data', { cause: error });
  }
}

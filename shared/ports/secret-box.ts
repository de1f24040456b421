import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals secrets (provider credentials) for storage and opens them again. The context names what
 * the secret belongs to (client, account); it is bound to the ciphertext, so a sealed secret
 * copied onto another record cannot be opened there. Context values are not secret: KMS logs them.
 */
export interface SecretBox {
  seal(plaintext: string, context: SecretContext): Promise<SealedSecret>;
  /** Throws SecretBoxError when the key, the context or the bytes do not match. */
  open(sealed: SealedSecret, context: SecretContext): Promise<string>;
}

export type SecretContext = Record<string, string>;

/** AES-256-GCM output, base64: the same shape under every scheme. */
export interface GcmBox {
  /** 12 random bytes, new for every seal. */
  iv: string;
  ciphertext: string;
  /** The 16-byte GCM authentication tag. */
  tag: string;
}

/** Sealed with a key held in a local key file; `keyId` names which key, so keys can rotate. */
export interface LocalSealedSecret extends GcmBox {
  scheme: 'local-aes-256-gcm';
  keyId: string;
}

/** Envelope encryption: a KMS data key encrypted the secret; the data key is kept encrypted by KMS. */
export interface KmsSealedSecret extends GcmBox {
  scheme: 'kms-envelope-aes-256-gcm';
  /** The KMS key (ARN) that encrypted the data key. */
  keyId: string;
  encryptedDataKey: string;
}

/** JSON-serialisable: stored as it is on the owning record. */
export type SealedSecret = LocalSealedSecret | KmsSealedSecret;

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

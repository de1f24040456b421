import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'hgr_';
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new secret: `hgr_` + 40 base62 characters (~238 bits). */
export function generateApiKey(): string {
  const bytes = randomBytes(64);
  let out = '';
  for (const byte of bytes) {
    if (byte < 248 && out.length < 40) out += BASE62[byte % 62];
  }
  return KEY_PREFIX + out.padEnd(40, 'A');
}

/** Keys are stored and looked up by this hash only; the secret itself is never kept. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

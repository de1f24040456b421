import type { SealedSecret } from '../domain/sealed-secret.ts';

export type { GcmBox, KmsSealedSecret, LocalSealedSecret, SealedSecret } from '../domain/sealed-secret.ts';

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

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

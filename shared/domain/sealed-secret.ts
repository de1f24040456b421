// A secret as stored on its owning record (an account's credentials): the domain keeps the
// shape, the SecretBox port seals and opens it.

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

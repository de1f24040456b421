import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { type KmsSealedSecret, type SealedSecret, type SecretBox, type SecretContext } from '../../ports/secret-box.ts';
import { gcmOpen, gcmSeal, SecretBoxError } from '../crypto/aes-gcm.ts';

/** Created once per container, on first use; the SDK's own retries and endpoint resolution apply. */
let sharedClient: KMSClient | undefined;
const defaultClient = () => (sharedClient ??= new KMSClient({}));

/** The variable naming the KMS key that protects data keys (key id, ARN or alias). */
export const SECRETS_KEY_VARIABLE = 'SECRETS_KMS_KEY_ID';

/**
 * Envelope encryption: KMS issues a fresh AES-256 data key per secret under the context, the
 * secret is sealed locally with AES-256-GCM, and only the KMS-encrypted data key is kept. The
 * same context is KMS's encryption context and the GCM additional data, so opening needs both
 * the right record and kms:Decrypt on the key, and each decrypt is visible in CloudTrail.
 */
export class KmsSecretBox implements SecretBox {
  constructor(
    private readonly options: {
      /** The key new secrets are sealed under; opening uses the key recorded in the secret. */
      keyId: string | undefined;
      client?: KMSClient;
    },
  ) {}

  /** The key is checked when sealing, so functions that only open need not be given one. */
  static fromEnvironment(): KmsSecretBox {
    return new KmsSecretBox({ keyId: process.env[SECRETS_KEY_VARIABLE] });
  }

  private get client(): KMSClient {
    return this.options.client ?? defaultClient();
  }

  async seal(plaintext: string, context: SecretContext): Promise<KmsSealedSecret> {
    const keyId = this.options.keyId;
    // Checked here, not at start-up: only the functions that seal need the key configured.
    if (!keyId) throw new SecretBoxError(`Environment variable ${SECRETS_KEY_VARIABLE} is required to seal secrets but not set`);
    const dataKey = await this.client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    if (!dataKey.Plaintext || !dataKey.CiphertextBlob) throw new SecretBoxError('KMS returned no data key');
    try {
      return {
        scheme: 'kms-envelope-aes-256-gcm',
        keyId: dataKey.KeyId ?? keyId,
        encryptedDataKey: Buffer.from(dataKey.CiphertextBlob).toString('base64'),
        ...gcmSeal(dataKey.Plaintext, plaintext, context),
      };
    } finally {
      dataKey.Plaintext.fill(0);
    }
  }

  async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
    if (sealed?.scheme !== 'kms-envelope-aes-256-gcm') {
      throw new SecretBoxError(`This secret was sealed with '${String(sealed?.scheme)}', which the KMS secret box cannot open`);
    }
    let dataKey: Uint8Array | undefined;
    try {
      const result = await this.client.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(sealed.encryptedDataKey, 'base64'),
          // Pinning the key makes KMS refuse a data key that some other key encrypted.
          KeyId: sealed.keyId,
          EncryptionContext: context,
        }),
      );
      dataKey = result.Plaintext;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw new SecretBoxError('KMS refused the data key: wrong key, wrong context, or altered data', { cause: error });
      }
      throw error;
    }
    if (!dataKey) throw new SecretBoxError('KMS returned no data key');
    try {
      return gcmOpen(dataKey, sealed, context);
    } finally {
      dataKey.fill(0);
    }
  }
}

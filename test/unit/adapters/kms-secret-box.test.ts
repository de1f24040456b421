import { createHash } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, InvalidCiphertextException, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsSecretBox } from '../../../shared/adapters/aws/kms-secret-box.ts';
import type { KmsSealedSecret } from '../../../shared/ports/secret-box.ts';
import { SecretBoxError } from '../../../shared/adapters/crypto/aes-gcm.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CONTEXT = { purpose: 'hangar:account-credentials', clientId: 'client-abc', accountId: 'account-123' };
const SECRET = JSON.stringify({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });

/** A fake KMS: one fixed data key, "encrypted" as a blob that names the context it was issued under. */
const DATA_KEY = createHash('sha256').update('fake data key').digest();
const blobFor = (context: Record<string, string>) => Buffer.from(`edk:${JSON.stringify(Object.entries(context).sort())}`);

describe('KmsSecretBox', () => {
  const kms = mockClient(KMSClient);
  const client = new KMSClient({ region: 'us-east-1' });
  const box = new KmsSecretBox({ keyId: 'alias/hangar-secrets', client });
  let issuedKeys: Uint8Array[];

  beforeEach(() => {
    kms.reset();
    issuedKeys = [];
    kms.on(GenerateDataKeyCommand).callsFake((input: { EncryptionContext?: Record<string, string> }) => {
      const plaintext = new Uint8Array(DATA_KEY);
      issuedKeys.push(plaintext);
      return { KeyId: KEY_ARN, Plaintext: plaintext, CiphertextBlob: blobFor(input.EncryptionContext ?? {}) };
    });
    kms.on(DecryptCommand).callsFake((input: { CiphertextBlob?: Uint8Array; EncryptionContext?: Record<string, string> }) => {
      // KMS refuses a data key asked for under any other context than the one it was issued under.
      if (!input.CiphertextBlob || !Buffer.from(input.CiphertextBlob).equals(blobFor(input.EncryptionContext ?? {}))) {
        throw new InvalidCiphertextException({ message: 'InvalidCiphertextException', $metadata: {} });
      }
      return { KeyId: KEY_ARN, Plaintext: new Uint8Array(DATA_KEY) };
    });
  });

  it('asks KMS for an AES-256 data key under the encryption context and keeps only its encrypted form', async () => {
    const sealed = await box.seal(SECRET, CONTEXT);
    const calls = kms.commandCalls(GenerateDataKeyCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ KeyId: 'alias/hangar-secrets', KeySpec: 'AES_256', EncryptionContext: CONTEXT });
    expect(sealed).toMatchObject({ scheme: 'kms-envelope-aes-256-gcm', keyId: KEY_ARN, encryptedDataKey: blobFor(CONTEXT).toString('base64') });
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain('wJalrXUtnFEMI');
    expect(stored).not.toContain(DATA_KEY.toString('base64'));
    // The plaintext data key is wiped once used.
    expect(issuedKeys[0]!.every((byte) => byte === 0)).toBe(true);
  });

  it('opens with Decrypt under the same context and the recorded key', async () => {
    const sealed = await box.seal(SECRET, CONTEXT);
    await expect(box.open(JSON.parse(JSON.stringify(sealed)) as KmsSealedSecret, CONTEXT)).resolves.toBe(SECRET);
    const calls = kms.commandCalls(DecryptCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      CiphertextBlob: Buffer.from(sealed.encryptedDataKey, 'base64'),
      KeyId: KEY_ARN,
      EncryptionContext: CONTEXT,
    });
  });

  it('cannot open under another context', async () => {
    const sealed = await box.seal(SECRET, CONTEXT);
    await expect(box.open(sealed, { ...CONTEXT, accountId: 'account-456' })).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('refuses altered ciphertext even when KMS hands the data key back', async () => {
    const sealed = await box.seal(SECRET, CONTEXT);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[3] = bytes[3]! ^ 0xff;
    await expect(box.open({ ...sealed, ciphertext: bytes.toString('base64') }, CONTEXT)).rejects.toThrow(/altered data/);
  });

  it('refuses to seal without a configured key, naming the variable, and calls nothing', async () => {
    await expect(new KmsSecretBox({ keyId: undefined, client }).seal(SECRET, CONTEXT)).rejects.toThrow(/SECRETS_KMS_KEY_ID/);
    expect(kms.calls()).toHaveLength(0);
  });

  it('surfaces other KMS failures as they are', async () => {
    const sealed = await box.seal(SECRET, CONTEXT);
    kms.on(DecryptCommand).rejects(new Error('AccessDeniedException: not allowed to kms:Decrypt'));
    await expect(box.open(sealed, CONTEXT)).rejects.toThrow(/AccessDenied/);
  });

  it('refuses secrets of another scheme without calling KMS', async () => {
    const local = { scheme: 'local-aes-256-gcm' as const, keyId: 'local-x', iv: '', tag: '', ciphertext: '' };
    await expect(box.open(local, CONTEXT)).rejects.toThrow(/cannot open/);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
  });
});

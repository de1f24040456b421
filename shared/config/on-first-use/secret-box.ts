import type { SecretBox } from '../../ports/secret-box.ts';
import { once } from '../lazy.ts';

/** The KMS secret box and its client, loaded on the first secret sealed or opened (see ./workflows.ts). */
export function secretBoxOnFirstUse(): SecretBox {
  const load = once(async () => (await import('../../adapters/aws/kms-secret-box.ts')).KmsSecretBox.fromEnvironment());
  return {
    seal: async (plaintext, context) => (await load()).seal(plaintext, context),
    open: async (sealed, context) => (await load()).open(sealed, context),
  };
}

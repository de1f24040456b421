import type { WebhookEndpoint } from '../../domain/webhooks.ts';
import type { SecretBox, SecretContext } from '../../ports/secret-box.ts';

/** Bound to the sealed secret: a secret copied onto another endpoint does not open there. */
export const webhookSecretContext = (endpoint: Pick<WebhookEndpoint, 'clientId' | 'webhookId'>): SecretContext => ({
  purpose: 'hangar:webhook-secret',
  clientId: endpoint.clientId,
  webhookId: endpoint.webhookId,
});

/**
 * The secrets a delivery is signed with: the current one, and the previous one while its grace
 * period after a rotation lasts. Opened secrets are remembered per sealed value, so a warm
 * deliverer asks KMS once per secret, not once per attempt.
 */
export function makeSigningSecrets(secretBox: SecretBox) {
  const opened = new Map<string, Promise<string>>();
  const open = (endpoint: WebhookEndpoint, sealed: WebhookEndpoint['sealedSecret']) => {
    const key = `${endpoint.webhookId}:${JSON.stringify(sealed)}`;
    let secret = opened.get(key);
    if (!secret) {
      secret = secretBox.open(sealed, webhookSecretContext(endpoint));
      secret.catch(() => opened.delete(key));
      if (opened.size > 1000) opened.clear();
      opened.set(key, secret);
    }
    return secret;
  };
  return async (endpoint: WebhookEndpoint, now: Date): Promise<string[]> => {
    const secrets = [await open(endpoint, endpoint.sealedSecret)];
    if (endpoint.previousSealedSecret && endpoint.previousSecretExpiresAt && Date.parse(endpoint.previousSecretExpiresAt) > now.getTime()) {
      secrets.push(await open(endpoint, endpoint.previousSealedSecret));
    }
    return secrets;
  };
}

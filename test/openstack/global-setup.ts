/**
 * Vitest globalSetup of the real-cloud suite: the cloud up (or started with up.sh, which needs
 * root) and the fixtures created, before any test file runs. Tests read them with loadFixtures().
 */
import { prepareOpenStack } from '../../scripts/openstack/prepare.ts';

export default async function setup(): Promise<void> {
  const startedAt = Date.now();
  const fixtures = await prepareOpenStack((line) => console.log(`[openstack] ${line}`));
  console.log(
    `[openstack] cloud at ${fixtures.authUrl} ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ` +
      `image ${fixtures.image.name}, network ${fixtures.network.name}, key pair ${fixtures.keyPair}`,
  );
}

import { readFileSync } from 'node:fs';
import { fixturesPath, type OpenStackFixtures } from '../../scripts/openstack/prepare.ts';

/** The fixtures global-setup.ts (scripts/openstack/prepare.ts) wrote for this run. */
export function loadFixtures(): OpenStackFixtures {
  return JSON.parse(readFileSync(fixturesPath(), 'utf8')) as OpenStackFixtures;
}

import { defineConfig } from 'vitest/config';

/**
 * The real-cloud suite (`npm run test:openstack`): the OPENSTACK provider against a real
 * OpenStack on 127.0.0.1 (../shared/openstack/up.sh). Opt-in; `npm test` never runs it.
 */
export default defineConfig({
  test: {
    include: ['test/openstack/**/*.test.ts'],
    pool: 'forks',
    // Two cores, and one cloud whose API services answer in 0.3–1 s: one file at a time.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // Brings the cloud up when needed (up.sh, root) and creates the fixtures the tests read.
    globalSetup: ['test/openstack/global-setup.ts'],
  },
});

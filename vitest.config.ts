import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-cloud suite is opt-in: npm run test:openstack (vitest.openstack.config.ts).
    exclude: [...configDefaults.exclude, 'test/openstack/**'],
    pool: 'forks',
    // Two cores: e2e suites start JVMs and child processes, so keep parallelism modest.
    maxWorkers: 2,
    // Generous bounds, not speed targets: JVM and runtime starts slow down a lot on a loaded
    // two-core machine, and a timeout there is a false failure.
    testTimeout: 60_000,
    hookTimeout: 150_000,
    // One in-memory DynamoDB Local for the whole run; tests reach it via inject('dynamoEndpoint').
    globalSetup: ['test/support/global-setup.ts'],
  },
});

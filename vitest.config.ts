import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: e2e suites start JVMs and child processes, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One in-memory DynamoDB Local for the whole run; tests reach it via inject('dynamoEndpoint').
    globalSetup: ['test/support/global-setup.ts'],
  },
});

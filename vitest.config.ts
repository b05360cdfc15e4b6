import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests open servers and SQLite files; two cores, so modest parallelism.
    pool: 'forks',
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // One PostgreSQL cluster serves every file; two cores, so a few files at a time.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships index.mjs and index.js; Node (and type-graphql) load index.js, Vite would
    // pick index.mjs, and two copies of graphql refuse each other's types.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // `npm run test:chaos` (HOOKYARD_CHAOS=full) also collects the chaos figures into one results file.
    globalSetup: ['test/helpers/global-setup.ts', ...(process.env.HOOKYARD_CHAOS === 'full' ? ['test/chaos/full-run.ts'] : [])],
    // One PostgreSQL cluster serves every file; two cores, so a few files at a time.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
});

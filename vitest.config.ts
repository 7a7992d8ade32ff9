import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest (measured 2026-11-30, seconds within the full suite), started
 * first. A fresh clone has no timings cached, so vitest orders by file size and started the
 * 145 s bench smoke three minutes in: the suite's wall time was its tail. Started first, the
 * long files run beside the many short ones on the other workers.
 */
const SLOW_FIRST = [
  'test/integration/bench-smoke.test.ts', // 145
  'test/integration/npm-start.test.ts', // 44
  'test/integration/delivery-isolation.test.ts', // 39
  'test/chaos/worker-crashes.test.ts', // 31
  'test/chaos/postgres-restart.test.ts', // 29
  'test/chaos/ordered-delivery.test.ts', // 27
  'test/integration/crash-recovery.test.ts', // 20
  'test/integration/delivery-errors.test.ts', // 19
  'test/integration/ordered-delivery.test.ts', // 16
  'test/chaos/api-crashes.test.ts', // 14
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = SLOW_FIRST.findIndex((name) => spec.moduleId.endsWith(`/${name}`));
      return at < 0 ? SLOW_FIRST.length : at;
    };
    // Stable: the rest keep vitest's own order (cached durations, else size).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    // A worker runs file after file in one module graph: each file no longer pays a fresh
    // process and a fresh import of the app (about a fifth of the suite's time). What a file
    // must end with (apps stopped, databases dropped) is per-file.ts's hook.
    isolate: false,
    setupFiles: ['test/helpers/per-file.ts'],
    sequence: { sequencer: SlowFirstSequencer },
  },
});

import { Logger, run, type Task } from 'graphile-worker';
import { announceReady, webhookSender } from './post-webhook.js';
import { GRAPHILE_TASK, type RelayJob } from './relay-job.js';

/**
 * peer_graphile, in a process of its own: a minimal relay on graphile-worker, configured as
 * its performance page does (https://worker.graphile.org/docs/performance): a local queue of
 * 500 (the pool fetches and locks jobs in batches instead of one query per job), completions
 * and failures batched (`completeJobBatchDelay` / `failJobBatchDelay` 0), prepared statements
 * (the default, kept explicit), and a pool of `concurrentJobs + 2` connections as the option's
 * own documentation advises. Concurrency is the relays' `maxConcurrency` (CONCURRENCY), so it
 * has as many deliveries in flight as Hookyard's relay may.
 */
const concurrency = Number(process.env.CONCURRENCY);
const send = webhookSender(concurrency);
const relay: Task = async (payload) => send(payload as RelayJob);
// Only errors: a line per job would cost the peer what Hookyard's quiet worker does not pay.
const logger = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`peer_graphile: ${message}\n`);
});

const runner = await run({
  taskList: { [GRAPHILE_TASK]: relay },
  crontab: '',
  preset: {
    worker: {
      connectionString: process.env.DATABASE_URL,
      concurrentJobs: concurrency,
      maxPoolSize: Math.max(10, concurrency + 2),
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
      preparedStatements: true,
      logger,
    },
  },
});
announceReady();
await runner.promise;

import { PgBoss } from 'pg-boss';
import { announceReady, webhookSender } from './post-webhook.js';
import { PGBOSS_QUEUE, PGBOSS_WORK, type RelayJob } from './relay-job.js';

/**
 * peer_pgboss, in a process of its own: a minimal relay on pg-boss, configured as its
 * workers page advises for throughput (https://pgboss.io/api/workers): `work()` fetching
 * batches (`batchSize`) with `localConcurrency` workers, `burstWhenBatchFull` so a worker
 * fetches again at once while batches come back full instead of waiting out its polling
 * interval, and the shortest polling interval allowed (0.5 s) for the tail. A batch's
 * handler POSTs its jobs at once; returning completes the whole batch in one statement.
 */
const send = webhookSender(Number(process.env.CONCURRENCY));
const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, application_name: 'peer-pgboss' });
boss.on('error', (error) => process.stderr.write(`peer_pgboss: ${error.message}\n`));
await boss.start();
await boss.work<RelayJob>(PGBOSS_QUEUE, { ...PGBOSS_WORK, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
  await Promise.all(jobs.map((job) => send(job.data)));
});
announceReady();

import { attemptPairs, completeJobs, DEFAULT_SCHEMA } from 'pg-boss/dist/plans.js';
import { DELIVERY_QUEUE, type JobAck } from './boss.js';

/**
 * pg-boss's completion of fetched delivery jobs (`boss.complete(queue, jobs)` with each job's
 * retry count as its fence) as an UPDATE that another statement carries in a CTE, over four
 * parameters from `$first` on (`completeDeliveryJobsValues`): a worker records a batch's
 * outcomes and completes their jobs in one statement instead of two.
 *
 * The text is pg-boss's own (plans.js `completeJobs` of 12.38: only active jobs, fenced to the
 * attempt fetched; dependants are unblocked out of band by pg-boss, not here), its parameters
 * renumbered; a version whose text has another shape fails at the first record instead of
 * completing differently.
 */
export function completeDeliveryJobsSql(table: string, first: number): string {
  const text = completeJobs(DEFAULT_SCHEMA, table, false, true);
  const match = /^\s*WITH results AS \(\s*(UPDATE [\s\S]*?)\s*RETURNING id\s*\)\s*SELECT COUNT\(\*\), COALESCE\(array_agg\(id\), '\{\}'::uuid\[\]\) AS ids FROM results\s*$/.exec(text);
  const update = match?.[1];
  if (!update || !/\$4::text\[\]\)\s*$/.test(update) || /\$[5-9]/.test(update)) {
    throw new Error('pg-boss complete statement has an unexpected shape (src/queue/complete-jobs.ts is written against pg-boss 12.38)');
  }
  return update.replace(/\$([1-4])\b/g, (_, n: string) => `$${first + Number(n) - 1}`);
}

/** The four parameters of `completeDeliveryJobsSql`: the queue, the jobs, no output, and each job's fence. */
export function completeDeliveryJobsValues(jobs: readonly JobAck[]): unknown[] {
  const ids = jobs.map((j) => j.id);
  return [DELIVERY_QUEUE, ids, null, attemptPairs(ids, jobs.map((j) => j.retryCount))];
}

import { attemptPairs, DEFAULT_SCHEMA } from 'pg-boss/dist/plans.js';
import { DELIVERY_QUEUE, type JobAck } from './boss.js';

/**
 * The completion of fetched delivery jobs as a DELETE that another statement carries in a CTE,
 * over three parameters from `$first` on (`completeDeliveryJobsValues`): a worker records a
 * batch's outcomes and finishes their jobs in one statement instead of two.
 *
 * A finished job is deleted, as graphile-worker deletes its jobs, where pg-boss's `complete`
 * rewrites the row as `completed` and keeps it for its retention. Hookyard never reads a
 * finished delivery job back (the attempt log is the record), and the rewrite cost a new row
 * version with an entry in three of the job table's indexes per delivery: the outcome statement
 * went from 74 to 52 µs of PostgreSQL time and from 1,904 to 1,310 bytes of WAL per delivery
 * (bench/README.md). What `complete` guards is kept: only active jobs, each fenced to the retry
 * count it was fetched at (pg-boss's own `attemptPairs`), so a job its worker lost and pg-boss
 * handed out again is left to the worker that holds it now. Delivery jobs block no other job,
 * and finished jobs are not in pg-boss's counts of live ones, so nothing else moves.
 */
export function completeDeliveryJobsSql(table: string, first: number): string {
  const [queue, ids, fences] = [first, first + 1, first + 2].map((n) => `$${n}`);
  return `delete from ${DEFAULT_SCHEMA}.${table} where name = ${queue} and id = any(${ids}::uuid[]) and state = 'active'
    and (id::text || ':' || retry_count::text) = any(${fences}::text[])`;
}

/** The three parameters of `completeDeliveryJobsSql`: the queue, the jobs, and each job's fence. */
export function completeDeliveryJobsValues(jobs: readonly JobAck[], queue = DELIVERY_QUEUE): unknown[] {
  const ids = jobs.map((j) => j.id);
  return [queue, ids, attemptPairs(ids, jobs.map((j) => j.retryCount))];
}

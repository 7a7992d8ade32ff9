import type { JobInsert, PgBoss } from 'pg-boss';
import type { DeliveryJob } from './boss.js';
import { queueTable } from './queue-table.js';

/** startBoss leaves pg-boss in its default schema. */
const SCHEMA = 'pgboss';

/**
 * pg-boss 12.38's own defaults, for a queue row that is gone (`QUEUE_DEFAULTS` in its plans.js):
 * with them the insert still reaches the queue's foreign key and fails there, as pg-boss's does.
 */
const QUEUE_DEFAULTS = { expireSeconds: 900, deletionSeconds: 604_800, retentionSeconds: 1_209_600, retryLimit: 2, retryDelay: 0, retryBackoff: false };

/** The table pg-boss writes `queue`'s jobs to (its partition when the queue has one), schema qualified. */
export async function jobTable(boss: PgBoss, queue: string): Promise<string> {
  return `${SCHEMA}.${(await queueTable(boss, queue)).table}`;
}

/**
 * pg-boss's `insert()` of delivery jobs as one INSERT that another statement can carry (a CTE),
 * over six array parameters from `$first` on (`deliveryJobValues`): ingest writes a batch's
 * deliveries and their jobs in one round trip instead of two.
 *
 * The same row as `boss.insert(queue, jobs)` writes (plans.js `insertJobs` of pg-boss 12.38):
 * every option a job does not set comes from the queue's row, else pg-boss's defaults; the
 * clock is `job_now()`; `keep_until` counts the retention from `start_after`; `ON CONFLICT DO
 * NOTHING` as there. What it leaves out is what Hookyard never uses: singleton keys and slots,
 * per-job retry, expiry and retention options, dead letters per job, flows, and the trace
 * context (no propagator is registered, so pg-boss stores null too). test/integration/
 * insert-jobs.test.ts holds every column equal to pg-boss's own insert. `onlyWhere`, a SQL
 * condition on `x.delivery_id`, leaves out the jobs of deliveries the carrying statement did
 * not write (events/accept-in-one-statement.ts).
 */
export function insertDeliveryJobsSql(table: string, queue: string, first: number, onlyWhere?: string): string {
  if (!/^[a-z_][a-z0-9_.]*$/.test(table) || !/^[a-z_][a-z0-9_-]*$/.test(queue)) throw new Error('unexpected pg-boss table or queue name');
  const p = (i: number) => `$${first + i}`;
  const d = QUEUE_DEFAULTS;
  return `
    insert into ${table} (
      id, name, data, priority, start_after, created_on, singleton_key, singleton_on, group_id, group_tier,
      expire_seconds, deletion_seconds, keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max,
      policy, dead_letter, heartbeat_seconds, blocked, blocking, pending_dependencies, trace_context)
    select
      gen_random_uuid(), '${queue}', jsonb_build_object('deliveryId', j.delivery_id::text, 'attempt', j.attempt), j.priority, j.start_after,
      ${SCHEMA}.job_now(), null, null, j.group_id, j.group_tier,
      coalesce(q.expire_seconds, ${d.expireSeconds}), coalesce(q.deletion_seconds, ${d.deletionSeconds}),
      j.start_after + coalesce(q.retention_seconds, ${d.retentionSeconds}) * interval '1s',
      coalesce(q.retry_limit, ${d.retryLimit}), coalesce(q.retry_delay, ${d.retryDelay}), coalesce(q.retry_backoff, ${d.retryBackoff}), q.retry_delay_max,
      q.policy, q.dead_letter, q.heartbeat_seconds, false, false, 0, null
    from (
      select x.delivery_id, x.attempt, x.priority, x.group_id, x.group_tier, coalesce(x.start_after, ${SCHEMA}.job_now()) as start_after
      from unnest(${p(0)}::uuid[], ${p(1)}::int4[], ${p(2)}::int4[], ${p(3)}::timestamptz[], ${p(4)}::text[], ${p(5)}::text[])
        as x(delivery_id, attempt, priority, start_after, group_id, group_tier)${onlyWhere ? ` where ${onlyWhere}` : ''}) j
    left join ${SCHEMA}.queue q on q.name = '${queue}'
    on conflict do nothing`;
}

/** The options of a job this insert writes; any other would be dropped, so it is refused. */
const HONOURED = new Set(['data', 'group', 'priority', 'startAfter']);

/** The parameters of `insertDeliveryJobsSql` for `jobs` (as `deliveryJob` in boss.ts builds them). */
export function deliveryJobValues(jobs: readonly JobInsert<DeliveryJob>[]): unknown[] {
  const columns: [string[], number[], number[], (Date | null)[], string[], (string | null)[]] = [[], [], [], [], [], []];
  for (const job of jobs) {
    for (const key of Object.keys(job)) if (!HONOURED.has(key)) throw new Error(`the folded job insert does not write ${key}`);
    if (!job.data || !job.group) throw new Error('a delivery job has data and a group');
    if (job.startAfter !== undefined && !(job.startAfter instanceof Date)) throw new Error('a delivery job starts after a Date');
    columns[0].push(job.data.deliveryId);
    columns[1].push(job.data.attempt);
    columns[2].push(job.priority ?? 0);
    columns[3].push(job.startAfter ?? null);
    columns[4].push(job.group.id);
    columns[5].push(job.group.tier ?? null);
  }
  return columns;
}

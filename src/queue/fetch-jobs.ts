import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
// pg-boss's own statement builder (pinned at 12.38.0: its fetch text is checked below, and a
// version that changes its shape fails at the first fetch instead of fetching differently).
import { DEFAULT_SCHEMA, fetchNextJob } from 'pg-boss/dist/plans.js';
import { DELIVERY_QUEUE, type DeliveryJob } from './boss.js';
import { queueTable } from './queue-table.js';

/** What one fetch of delivery jobs asks pg-boss for: exactly the options `boss.fetch` takes. */
export interface FetchRequest {
  batchSize: number;
  /** The lane: jobs of exactly this priority. */
  priority: number;
  /** Relays this process already holds at their share of the lane. */
  ignoreGroups: readonly string[];
}

/** A job as pg-boss's fetch returns it (its minimal columns), prefixed `job_`. */
export interface FetchedJobRow {
  job_id: string;
  job_retry_count: number;
  job_group_id: string | null;
  job_group_tier: string | null;
  job_data: DeliveryJob;
}

/**
 * The jobs' limit from their tier, computed in SQL. pg-boss takes the tiers as a JSON map, a
 * parameter that PostgreSQL parses while planning every fetch (1,000 entries: about half of
 * the fetch's planning); a delivery job's tier is its relay's `maxConcurrency` written as a
 * number (1..1000, see boss.ts `deliveryJob`), so the lookup is the number itself. The map
 * stays as the fallback, empty, so the statement's parameters keep pg-boss's numbering.
 */
const TIER_LIMIT = `(case when group_tier !~ '^[1-9][0-9]{0,3}$' then null when group_tier::int <= 1000 then group_tier::int end)`;

/**
 * pg-boss's fetch of delivery jobs (group concurrency by relay, one lane's priority, relays to
 * leave out), in one statement. The text is pg-boss's own, built by its plan builder with the options `boss.fetch` passes
 * (states, `started_on`, `retry_count`, heartbeats, SKIP LOCKED and group counts stay exactly
 * pg-boss's); the only changes are its final UPDATE turned into the CTE `fetched` and the tier
 * lookup above. The claim stays a statement of its own: folded in here it was planned on the
 * fetched rows' unknown count and executed 2.5× slower than fetch and claim apart.
 * Returns no rows when nothing was due.
 */
export async function fetchDeliveryJobs(boss: PgBoss, db: Pool | PoolClient, request: FetchRequest): Promise<FetchedJobRow[]> {
  const { table: name, policy } = await queueTable(boss, DELIVERY_QUEUE);
  const head = fetchHead(name, policy, request);
  try {
    const { rows } = await db.query<FetchedJobRow>({ name: head.name, text: head.text, values: head.values });
    return rows;
  } catch (error) {
    // As boss.fetch: a unique violation from a policy index means a concurrent fetch won the job.
    if ((error as { code?: string }).code === '23505') return [];
    throw error;
  }
}

/** Written into pg-boss's text where the batch size goes, then made a parameter. */
const LIMIT_MARK = 987_654_321;

/**
 * A prepared statement per table, policy and whether relays are left out (its text differs),
 * with the batch size a parameter: planned once per connection instead of at every fetch
 * (about a fifth of the fetch's PostgreSQL time, `bench/tools/drain.ts --statements`).
 */
const statements = new Map<string, { name: string; text: string; tiersAt: number }>();

function fetchHead(table: string, policy: string, request: FetchRequest): { name: string; text: string; values: unknown[] } {
  const ignoring = request.ignoreGroups.length > 0;
  const key = `${table}\0${policy}\0${ignoring}`;
  let statement = statements.get(key);
  const query = fetchNextJob({
    schema: DEFAULT_SCHEMA,
    table,
    name: DELIVERY_QUEUE,
    policy,
    limit: LIMIT_MARK,
    includeTraceContext: false,
    groupConcurrency: { default: 10, tiers: { '1': 1 } },
    minPriority: request.priority,
    maxPriority: request.priority,
    ...(ignoring ? { ignoreGroups: [...request.ignoreGroups] } : {}),
  });
  const values = [...query.values, request.batchSize];
  if (statement) {
    values[statement.tiersAt] = '{}';
    return { name: statement.name, text: statement.text, values };
  }
  const tiersAt = query.values.indexOf('{"1":1}');
  const lookup = `($${tiersAt + 1}::text::jsonb ->> group_tier)::int`;
  const update = `UPDATE ${DEFAULT_SCHEMA}.${table} j SET`;
  const parts = query.text.split(update);
  if (tiersAt < 0 || query.text.split(lookup).length !== 3 || parts.length !== 2 || !/^\s*WITH\b/.test(parts[0]!) || !/RETURNING j\.id, name, data, retry_count as "retryCount"[^;]*group_id as "groupId", group_tier as "groupTier"\s*$/.test(parts[1]!)) {
    throw new Error('pg-boss fetch statement has an unexpected shape (src/queue/fetch-jobs.ts is written against pg-boss 12.38)');
  }
  values[tiersAt] = '{}';
  const limit = `LIMIT ${LIMIT_MARK}`;
  if (parts[0]!.split(limit).length !== 2) throw new Error('pg-boss fetch statement has an unexpected shape: no single LIMIT (src/queue/fetch-jobs.ts)');
  const ctes = parts[0]!.split(lookup).join(`coalesce(${TIER_LIMIT}, ${lookup})`).replace(limit, `LIMIT $${values.length}::int`);
  const text = `${ctes},
      fetched AS (${update}${parts[1]!.replace(/\s*$/, '')}),
      fetched_jobs AS (select f.id as job_id, f."retryCount" as job_retry_count, f."groupId" as job_group_id, f."groupTier" as job_group_tier, f.data as job_data from fetched f)
    select * from fetched_jobs`;
  statement = { name: `hookyard-fetch-${statements.size}`, text, tiersAt };
  statements.set(key, statement);
  return { name: statement.name, text, values };
}

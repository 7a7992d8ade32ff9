import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { DEFAULT_SCHEMA } from 'pg-boss/dist/plans.js';
import { inTransaction } from '../db/transaction.js';
import { DELIVERY_QUEUE, FIRST_TRY_PRIORITY, RETRY_PRIORITY } from '../queue/boss.js';
import { queueTable } from '../queue/queue-table.js';

/** The delivery queue's lanes by pg-boss priority (queue/boss.ts), as metric labels. */
export const LANES: Readonly<Record<number, string>> = { [FIRST_TRY_PRIORITY]: 'first_try', [RETRY_PRIORITY]: 'retry' };

/** The label value the relays past the busiest N are summed under. */
export const OTHER_RELAYS = '_other';

export interface StatusCount {
  relay: string;
  status: string;
  count: number;
}

export interface LaneBacklog {
  lane: string;
  /** Jobs due and not yet fetched. */
  depth: number;
  /** Seconds since the oldest of them came due; 0 when none waits. */
  oldestAgeSeconds: number;
}

/** How far behind delivery is, as the database sees it: the same on every replica. */
export interface Backlog {
  deliveries: StatusCount[];
  lanes: LaneBacklog[];
  retriesScheduled: number;
  relaysDisabled: number;
}

/** A read slower than this is a database in trouble: the scrape keeps the previous figures. */
const READ_TIMEOUT_MS = 2000;

/**
 * Reads the backlog in one transaction of three statements, so the timeout covers them all on
 * one connection, and from one snapshot, so a commit landing between them (a delivery moved to
 * RETRYING with its retry job) is in every figure or in none. SUCCEEDED deliveries are left
 * out: they are most rows of the table until retention prunes them, so counting them would read the whole table per scrape (successes are
 * counted by `hookyard_delivery_attempts_total{status="SUCCEEDED"}`); the rest are few unless
 * something is wrong, and read through the partial index of unsettled statuses. The jobs are counted on
 * pg-boss's index of waiting jobs (name, priority, created_on, start_after).
 */
export async function readBacklog(pool: Pool, boss: PgBoss): Promise<Backlog> {
  const { table } = await queueTable(boss, DELIVERY_QUEUE);
  return inTransaction(pool, async (client) => {
    const deliveries = await client.query<{ relay: string; status: string; count: string }>(
      `select relay_id::text as relay, status, count(*) as count from delivery where status <> 'SUCCEEDED' group by relay_id, status`,
    );
    const jobs = await client.query<{ priority: number; due: string; scheduled: string; oldest: number | null }>(
      `select priority, count(*) filter (where start_after <= now()) as due, count(*) filter (where start_after > now()) as scheduled,
              extract(epoch from now() - min(start_after) filter (where start_after <= now()))::float8 as oldest
         from ${DEFAULT_SCHEMA}.${table} where name = $1 and state < 'active' and not blocked group by priority`,
      [DELIVERY_QUEUE],
    );
    const relays = await client.query<{ disabled: string }>(`select count(*) filter (where not enabled) as disabled from relay`);
    const byPriority = new Map(jobs.rows.map((row) => [row.priority, row]));
    return {
      deliveries: deliveries.rows.map((row) => ({ relay: row.relay, status: row.status, count: Number(row.count) })),
      lanes: Object.entries(LANES).map(([priority, lane]) => {
        const row = byPriority.get(Number(priority));
        return { lane, depth: Number(row?.due ?? 0), oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
      }),
      retriesScheduled: jobs.rows.reduce((sum, row) => sum + Number(row.scheduled), 0),
      relaysDisabled: Number(relays.rows[0]?.disabled ?? 0),
    };
  }, { statementTimeoutMs: READ_TIMEOUT_MS, oneSnapshot: true });
}

/**
 * Caps the relay label: the `top` relays with the most deliveries (over every status) keep
 * their id, the rest are summed per status under `_other`, so a thousand relays make at most
 * `top + 1` values per status. Ties go to the smaller id, so the set is stable between scrapes.
 */
export function capRelays(counts: readonly StatusCount[], top: number): StatusCount[] {
  const totals = new Map<string, number>();
  for (const { relay, count } of counts) totals.set(relay, (totals.get(relay) ?? 0) + count);
  const kept = new Set(
    [...totals.entries()]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, top)
      .map(([relay]) => relay),
  );
  const result: StatusCount[] = [];
  const other = new Map<string, number>();
  for (const entry of counts) {
    if (kept.has(entry.relay)) result.push({ ...entry });
    else other.set(entry.status, (other.get(entry.status) ?? 0) + entry.count);
  }
  for (const [status, count] of other) result.push({ relay: OTHER_RELAYS, status, count });
  return result;
}

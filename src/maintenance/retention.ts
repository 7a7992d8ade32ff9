import type { Pool } from 'pg';
import { FINISHED } from '../delivery/status-machine.js';
import { NIL_UUID } from '../ids.js';

export interface RetentionOptions {
  retentionHours: number;
  /** The audit log's own period: who changed what is kept longer than the traffic. */
  auditRetentionDays: number;
  /** Rows per statement; each batch is one statement, so one short transaction. */
  batchSize?: number;
  now?: Date;
}

export interface PruneCounts {
  rejectedRequests: number;
  deliveries: number;
  attempts: number;
  events: number;
  auditEntries: number;
  /** Entries of the live feeds' change logs (delivery_change, event_arrival). */
  feedEntries: number;
}

// Only FINISHED deliveries are pruned; a live one keeps its event and its attempt log.

const AUDIT_SQL = `
  delete from audit_log where id in (
    select id from audit_log where occurred_at < $1 limit $2 for update skip locked)`;

const REJECTED_SQL = `
  delete from rejected_request where id in (
    select id from rejected_request where received_at < $1 limit $2 for update skip locked)`;

// A line's head is kept (a DEAD head holding its key under orderingOnDead HOLD: the key waits
// for an operator, not for retention). Attempts go first, in the same statement, so the count is exact; the cascade from delivery
// then finds nothing left. FOR UPDATE re-checks the status of a row changed since the
// snapshot, so a delivery that "retry now" just revived is skipped, never deleted.
// No index has status or updated_at (each would take a new entry on every claim and outcome):
// a delivery last updated before the cutoff was created before it, so a keyset window over
// (created_at, id) finds them, examining each old delivery once per run, the live ones too.
const DELIVERIES_SQL = `
  with scanned as (
    select id, created_at from delivery
    where created_at < $1 and (created_at, id) > ($4::timestamptz, $5::uuid)
    order by created_at, id limit $2
  ), doomed as (
    select id from delivery
    where id in (select id from scanned) and status = any($3) and updated_at < $1
      and not exists (select 1 from ordering_line l where l.head_id = delivery.id)
    for update skip locked
  ), attempts as (
    delete from attempt where delivery_id in (select id from doomed) returning 1
  ), deliveries as (
    delete from delivery where id in (select id from doomed) returning 1
  ), tail as (
    select created_at::text as at, id from scanned order by created_at desc, id desc limit 1
  )
  select (select count(*) from scanned)::int as scanned, (select count(*) from deliveries)::int as deliveries,
         (select count(*) from attempts)::int as attempts, (select at from tail) as last_at, (select id from tail) as last_id`;

// Old events whose deliveries are still live are never deleted, so a plain "oldest first,
// limit N" would scan them again on every batch: with a relay held for days that is quadratic.
// A keyset window over (received_at, id) examines each old event once per run instead. The
// cursor travels as text so microseconds survive the round trip through JavaScript.
const EVENTS_SQL = `
  with scanned as (
    select id, received_at from event
    where received_at < $1 and (received_at, id) > ($3::timestamptz, $4::uuid)
    order by received_at, id limit $2
  ), doomed as (
    select id from event
    where id in (select id from scanned) and not exists (select 1 from delivery where delivery.event_id = event.id)
    for update skip locked
  ), gone as (
    delete from event where id in (select id from doomed) returning 1
  ), tail as (
    select received_at::text as at, id from scanned order by received_at desc, id desc limit 1
  )
  select (select count(*) from scanned)::int as scanned, (select count(*) from gone)::int as deleted,
         (select at from tail) as last_at, (select id from tail) as last_id`;

// The live feeds' logs are numbered in commit order and stamped at commit, so the old entries
// are a prefix: deleted oldest first, and the highest number deleted recorded, below which a
// cursor can no longer be resumed. Table names come from the constant list below, never input.
const FEED_LOGS = [{ log: 'delivery', table: 'delivery_change', at: 'changed_at' }, { log: 'event', table: 'event_arrival', at: 'arrived_at' }];
const feedLogSql = (f: (typeof FEED_LOGS)[number]): string => `
  with gone as (
    delete from ${f.table} where seq in (select seq from ${f.table} where ${f.at} < $1 order by seq limit $2) returning seq
  ), horizon as (
    insert into live_log_horizon (log, pruned_through) select '${f.log}', max(seq) from gone having count(*) > 0
    on conflict (log) do update set pruned_through = greatest(live_log_horizon.pruned_through, excluded.pruned_through)
  )
  select count(*)::int as n from gone`;

/**
 * Deletes what DESIGN.md's retention rule lets go of, older than `retentionHours`: rejected
 * requests, finished deliveries with their attempts, then events left with no delivery; and
 * audit-log rows older than `auditRetentionDays`.
 * Each batch is a single statement (its own short transaction) that skips rows other
 * transactions hold, so it runs next to workers; what it skips, the next run takes.
 */
export async function pruneOnce(pool: Pool, options: RetentionOptions): Promise<PruneCounts> {
  const batchSize = options.batchSize ?? 1000;
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionHours * 3_600_000);
  const auditCutoff = new Date((options.now ?? new Date()).getTime() - options.auditRetentionDays * 86_400_000);
  const counts: PruneCounts = { rejectedRequests: 0, deliveries: 0, attempts: 0, events: 0, auditEntries: 0, feedEntries: 0 };

  for (;;) {
    const { rowCount } = await pool.query(AUDIT_SQL, [auditCutoff, batchSize]);
    counts.auditEntries += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }

  for (;;) {
    const { rowCount } = await pool.query(REJECTED_SQL, [cutoff, batchSize]);
    counts.rejectedRequests += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }

  let deliveriesAfter = { at: '-infinity', id: NIL_UUID };
  for (;;) {
    const { rows } = await pool.query<{ scanned: number; deliveries: number; attempts: number; last_at: string | null; last_id: string | null }>(
      DELIVERIES_SQL,
      [cutoff, batchSize, FINISHED, deliveriesAfter.at, deliveriesAfter.id],
    );
    const batch = rows[0]!;
    counts.deliveries += batch.deliveries;
    counts.attempts += batch.attempts;
    if (batch.scanned < batchSize || batch.last_at === null || batch.last_id === null) break;
    deliveriesAfter = { at: batch.last_at, id: batch.last_id };
  }

  let after = { at: '-infinity', id: NIL_UUID };
  for (;;) {
    const { rows } = await pool.query<{ scanned: number; deleted: number; last_at: string | null; last_id: string | null }>(EVENTS_SQL, [
      cutoff,
      batchSize,
      after.at,
      after.id,
    ]);
    const batch = rows[0]!;
    counts.events += batch.deleted;
    if (batch.scanned < batchSize || batch.last_at === null || batch.last_id === null) break;
    after = { at: batch.last_at, id: batch.last_id };
  }

  for (const feedLog of FEED_LOGS) {
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(feedLogSql(feedLog), [cutoff, batchSize]);
      counts.feedEntries += rows[0]!.n;
      if (rows[0]!.n < batchSize) break;
    }
  }

  return counts;
}

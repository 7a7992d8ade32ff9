import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../../src/db/entities/delivery.js';
import { newId } from '../../src/ids.js';
import { RETENTION_QUEUE, startRetention } from '../../src/maintenance/retention-job.js';
import { pruneOnce } from '../../src/maintenance/retention.js';
import { startBoss } from '../../src/queue/boss.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/sink.js';

const HOUR = 3_600_000;
const RETENTION_HOURS = 72;
const AUDIT_RETENTION_DAYS = 30;
const DAY = 24 * HOUR;
const now = new Date();
const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
const OLD = ago(100);
const OLDER = ago(200);
const YOUNG = ago(1);

let databaseUrl: string;
let pool: pg.Pool;
let relayId: string;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  relayId = newId();
  await pool.query(`insert into relay (id, name, url, signing_secret_sealed, signing_secret_hint) values ($1, 'r', 'https://example.com/hook', 'sealed', 'whsec_…')`, [relayId]);
});

afterAll(async () => {
  await pool.end();
});

async function event(receivedAt: Date): Promise<string> {
  const id = newId();
  await pool.query(`insert into event (id, type, body, received_at) values ($1, 'test.event', '\\x7b7d', $2)`, [id, receivedAt]);
  return id;
}

async function delivery(eventId: string, status: DeliveryStatus, updatedAt: Date): Promise<string> {
  const id = newId();
  await pool.query(`insert into delivery (id, event_id, relay_id, status, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)`, [id, eventId, relayId, status, updatedAt]);
  return id;
}

async function attempts(deliveryId: string, count: number, startedAt: Date): Promise<string[]> {
  const ids: string[] = [];
  for (let number = 1; number <= count; number++) {
    const id = newId();
    await pool.query(`insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers) values ($1, $2, $3, $4, 5, '{}')`, [id, deliveryId, number, startedAt]);
    ids.push(id);
  }
  return ids;
}

async function rejected(receivedAt: Date): Promise<string> {
  const id = newId();
  await pool.query(`insert into rejected_request (id, slug, reason, message, status, received_at) values ($1, 's', 'SIGNATURE', 'bad', 401, $2)`, [id, receivedAt]);
  return id;
}

async function auditEntry(occurredAt: Date): Promise<string> {
  const id = newId();
  await pool.query(`insert into audit_log (id, occurred_at, token_id, token_name, operation, outcome) values ($1, $2, null, 'environment admin token', 'deleteRelay', 'OK')`, [id, occurredAt]);
  return id;
}

async function ids(table: 'event' | 'delivery' | 'attempt' | 'rejected_request' | 'audit_log'): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(`select id from ${table} order by id`);
  return rows.map((row) => row.id);
}

const sorted = (values: string[]) => [...values].sort();

describe('pruneOnce', () => {
  it('deletes only old finished work, in batches, and leaves live deliveries with their events and attempts', async () => {
    const kept = { event: [] as string[], delivery: [] as string[], attempt: [] as string[], rejected: [] as string[] };
    const gone = { event: [] as string[], delivery: [] as string[], attempt: [] as string[], rejected: [] as string[] };

    // Old unfinished deliveries of the oldest events: kept whatever their age, with their attempt logs.
    for (const status of ['PENDING', 'DELIVERING', 'RETRYING', 'HELD'] as const) {
      const e = await event(OLDER);
      const d = await delivery(e, status, OLDER);
      kept.event.push(e);
      kept.delivery.push(d);
      kept.attempt.push(...(await attempts(d, 2, OLDER)));
    }

    // Old finished deliveries, two per status: gone with their attempts and their events.
    for (const status of ['SUCCEEDED', 'DEAD', 'CANCELLED'] as const) {
      for (let i = 0; i < 2; i++) {
        const e = await event(OLD);
        const d = await delivery(e, status, OLD);
        gone.event.push(e);
        gone.delivery.push(d);
        gone.attempt.push(...(await attempts(d, 2, OLD)));
      }
    }

    // An old event with two finished deliveries: both go, then the event.
    {
      const e = await event(OLD);
      gone.event.push(e);
      for (const status of ['SUCCEEDED', 'DEAD'] as const) {
        const d = await delivery(e, status, OLD);
        gone.delivery.push(d);
        gone.attempt.push(...(await attempts(d, 1, OLD)));
      }
    }

    // An old event with one finished and one unfinished delivery: the finished one goes, the event stays.
    {
      const e = await event(OLD);
      kept.event.push(e);
      const finished = await delivery(e, 'SUCCEEDED', OLD);
      gone.delivery.push(finished);
      gone.attempt.push(...(await attempts(finished, 1, OLD)));
      const live = await delivery(e, 'RETRYING', OLD);
      kept.delivery.push(live);
      kept.attempt.push(...(await attempts(live, 3, OLD)));
    }

    // Finished recently: kept, even on an old event (a late retry), and so is that event.
    for (const receivedAt of [OLD, YOUNG]) {
      const e = await event(receivedAt);
      const d = await delivery(e, 'SUCCEEDED', YOUNG);
      kept.event.push(e);
      kept.delivery.push(d);
      kept.attempt.push(...(await attempts(d, 1, OLD)));
    }

    // Old events that never had a delivery, sharing one timestamp (the keyset's id tiebreak): gone.
    for (let i = 0; i < 4; i++) gone.event.push(await event(OLD));
    kept.event.push(await event(YOUNG));

    for (let i = 0; i < 7; i++) gone.rejected.push(await rejected(OLD));
    for (let i = 0; i < 2; i++) kept.rejected.push(await rejected(YOUNG));

    // The audit log has its own, longer period: older than it goes, younger stays (even when
    // older than the deliveries' retention).
    const keptAudit: string[] = [];
    for (let i = 0; i < 5; i++) await auditEntry(new Date(now.getTime() - (AUDIT_RETENTION_DAYS + 1 + i) * DAY));
    for (const age of [AUDIT_RETENTION_DAYS - 1, 10, 0]) keptAudit.push(await auditEntry(new Date(now.getTime() - age * DAY)));

    const counts = await pruneOnce(pool, { retentionHours: RETENTION_HOURS, auditRetentionDays: AUDIT_RETENTION_DAYS, batchSize: 3, now });

    expect(counts).toEqual({ rejectedRequests: 7, deliveries: 9, attempts: 15, events: 11, auditEntries: 5, feedEntries: 0 });
    expect(counts).toMatchObject({
      rejectedRequests: gone.rejected.length,
      deliveries: gone.delivery.length,
      attempts: gone.attempt.length,
      events: gone.event.length,
    });
    expect(await ids('audit_log')).toEqual(sorted(keptAudit));
    expect(await ids('event')).toEqual(sorted(kept.event));
    expect(await ids('delivery')).toEqual(sorted(kept.delivery));
    expect(await ids('attempt')).toEqual(sorted(kept.attempt));
    expect(await ids('rejected_request')).toEqual(sorted(kept.rejected));

    expect(await pruneOnce(pool, { retentionHours: RETENTION_HOURS, auditRetentionDays: AUDIT_RETENTION_DAYS, batchSize: 3, now })).toEqual({ rejectedRequests: 0, deliveries: 0, attempts: 0, events: 0, auditEntries: 0, feedEntries: 0 });
    expect(await ids('audit_log')).toEqual(sorted(keptAudit));
    expect(await ids('event')).toEqual(sorted(kept.event));
    expect(await ids('delivery')).toEqual(sorted(kept.delivery));
    expect(await ids('attempt')).toEqual(sorted(kept.attempt));
  });

  it('deletes the live feeds\' log entries older than the period, oldest first, and records how far it went', async () => {
    const e = await event(YOUNG);
    const d = await delivery(e, 'PENDING', YOUNG);
    await pool.query(`update delivery set status = 'DELIVERING' where id = $1`, [d]);
    const { rows } = await pool.query<{ seq: number }>('select seq::int as seq from delivery_change where delivery_id = $1 order by seq', [d]);
    expect(rows).toHaveLength(2);
    // The entries are stamped at commit; age everything up to this delivery's first change.
    const aged = await pool.query('update delivery_change set changed_at = $2 where seq <= $1', [rows[0]!.seq, OLD]);
    const agedEvents = await pool.query('update event_arrival set arrived_at = $1', [OLD]);

    const counts = await pruneOnce(pool, { retentionHours: RETENTION_HOURS, auditRetentionDays: AUDIT_RETENTION_DAYS, batchSize: 3, now });
    expect(counts.feedEntries).toBe((aged.rowCount ?? 0) + (agedEvents.rowCount ?? 0));
    const left = await pool.query<{ seq: number }>('select seq::int as seq from delivery_change where delivery_id = $1', [d]);
    expect(left.rows.map((r) => r.seq)).toEqual([rows[1]!.seq]);
    const horizon = await pool.query<{ log: string; pruned_through: number }>('select log, pruned_through::int as pruned_through from live_log_horizon order by log');
    expect(horizon.rows.find((r) => r.log === 'delivery')?.pruned_through).toBe(rows[0]!.seq);
    expect(horizon.rows.find((r) => r.log === 'event')?.pruned_through).toBeGreaterThan(0);
  });

  it('finds finished deliveries through the (created_at, id) index, and keeps one created before the period but finished within it', async () => {
    const e = await event(OLDER);
    const lateRetry = newId();
    await pool.query(`insert into delivery (id, event_id, relay_id, status, created_at, updated_at) values ($1, $2, $3, 'DEAD', $4, $5)`, [lateRetry, e, relayId, OLDER, YOUNG]);
    const finished = await delivery(e, 'SUCCEEDED', OLDER);
    const counts = await pruneOnce(pool, { retentionHours: RETENTION_HOURS, auditRetentionDays: AUDIT_RETENTION_DAYS, batchSize: 3, now });
    expect(counts.deliveries).toBe(1);
    const left = await pool.query<{ id: string }>('select id from delivery where id = any($1)', [[lateRetry, finished]]);
    expect(left.rows.map((row) => row.id)).toEqual([lateRetry]);

    // No index holds status or updated_at for retention: each would take an entry on every claim and outcome.
    const client = await pool.connect();
    try {
      await client.query('set enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `explain select id from delivery where created_at < $1 and (created_at, id) > ($2::timestamptz, $3::uuid) order by created_at, id limit 10`,
        [OLD, OLDER, newId()],
      );
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('delivery_created_at_id_index');
    } finally {
      await client.query('reset enable_seqscan');
      client.release();
    }
  });
});

describe('startRetention', () => {
  let boss: PgBoss;

  beforeAll(async () => {
    boss = await startBoss({ databaseUrl, poolSize: 2 });
  });

  afterAll(async () => {
    await boss.stop({ graceful: false });
  });

  it('schedules the job, and a job on its queue prunes', async () => {
    const oldRejected = await rejected(OLD);
    const oldAudit = await auditEntry(new Date(now.getTime() - (AUDIT_RETENTION_DAYS + 1) * DAY));
    const e = await event(OLD);
    const d = await delivery(e, 'DEAD', OLD);
    await attempts(d, 2, OLD);

    await startRetention(boss, pool, { retentionHours: RETENTION_HOURS, auditRetentionDays: AUDIT_RETENTION_DAYS });

    const schedules = await boss.getSchedules(RETENTION_QUEUE);
    expect(schedules.map((s) => ({ name: s.name, cron: s.cron }))).toEqual([{ name: RETENTION_QUEUE, cron: '*/10 * * * *' }]);

    // A cron slot may have queued one already; the stately queue then refuses a second (null).
    await boss.send(RETENTION_QUEUE, {});
    await waitUntil(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `select (select count(*) from rejected_request where id = $1) + (select count(*) from delivery where id = $2) + (select count(*) from event where id = $3)
             + (select count(*) from audit_log where id = $4) as n`,
          [oldRejected, d, e, oldAudit],
        );
        return Number(rows[0]!.n) === 0 ? true : undefined;
      },
      20_000,
      'the retention job to prune',
    );
    expect((await pool.query('select count(*)::int as n from attempt where delivery_id = $1', [d])).rows[0].n).toBe(0);
  });
});

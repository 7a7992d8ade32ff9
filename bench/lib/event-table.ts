import type pg from 'pg';

/**
 * A table shaped like Hookyard's `event`, for the figures that commit one bare row per
 * request (pg_floor, peer_ingest): both write the same row with the same statement.
 */
export async function createEventTable(db: pg.Pool): Promise<void> {
  await db.query(`create table if not exists bench_event (
    id uuid primary key, source_id uuid, type text not null, idempotency_key text, headers jsonb not null default '{}',
    content_type text, body bytea not null, received_at timestamptz not null default now())`);
}

/** One single-row INSERT, committed on its own (autocommit). */
export async function insertEvent(db: pg.Pool, row: { type: string; idempotencyKey: string; headers: Record<string, string>; body: Buffer }): Promise<void> {
  await db.query('insert into bench_event (id, source_id, type, idempotency_key, headers, content_type, body) values (gen_random_uuid(), null, $1, $2, $3, $4, $5)', [
    row.type, row.idempotencyKey, row.headers, 'application/json', row.body,
  ]);
}

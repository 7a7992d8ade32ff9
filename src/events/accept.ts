import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { FanOutBatch, planFanOut, type FannedOut } from './fan-out.js';

export interface NewEvent {
  sourceId: string | null;
  type: string;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  contentType: string | null;
  body: Buffer;
}

export type AcceptResult = { id: string; duplicate: false; deliveries: FannedOut[] } | { id: string; duplicate: true };

const NO_SOURCE = '00000000-0000-0000-0000-000000000000';

const INSERT_EVENT = `
  insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
  values ($1, $2, $3, $4, $5, $6, $7, now())
  on conflict (coalesce(source_id, '${NO_SOURCE}'::uuid), idempotency_key) where idempotency_key is not null do nothing
  returning id`;

const FIND_DUPLICATE = `
  select id from event
  where coalesce(source_id, '${NO_SOURCE}'::uuid) = coalesce($1::uuid, '${NO_SOURCE}'::uuid) and idempotency_key = $2`;

/**
 * Stores events, one delivery per matching subscription and one pg-boss job per delivery in
 * a single transaction: when this resolves, the work is durable; when it throws, none of it
 * exists (an Adyen batch is all or nothing). A repeated idempotency key returns the first
 * event's id and adds nothing.
 */
export function acceptEvents(pool: Pool, boss: PgBoss, events: readonly NewEvent[]): Promise<AcceptResult[]> {
  return inTransaction(pool, (client) => insertAll(client, boss, [events]).then((all) => all[0]!));
}

/** Several requests' events in one transaction: one pg-boss insert and one NOTIFY for all. */
export async function insertAll(client: PoolClient, boss: PgBoss, requests: readonly (readonly NewEvent[])[]): Promise<AcceptResult[][]> {
  const batch = new FanOutBatch();
  const results: AcceptResult[][] = [];
  for (const events of requests) {
    const accepted: AcceptResult[] = [];
    for (const event of events) accepted.push(await insertWithDeliveries(client, batch, event));
    results.push(accepted);
  }
  await batch.commit(client, boss);
  return results;
}

export async function acceptEvent(pool: Pool, boss: PgBoss, event: NewEvent): Promise<AcceptResult> {
  return (await acceptEvents(pool, boss, [event]))[0]!;
}

async function insertWithDeliveries(client: PoolClient, batch: FanOutBatch, event: NewEvent): Promise<AcceptResult> {
  const id = newId();
  const inserted = await client.query(INSERT_EVENT, [id, event.sourceId, event.type, event.idempotencyKey, event.headers, event.contentType, event.body]);
  if (inserted.rowCount === 0) {
    const first = await client.query<{ id: string }>(FIND_DUPLICATE, [event.sourceId, event.idempotencyKey]);
    return { id: first.rows[0]!.id, duplicate: true };
  }
  const deliveries = await planFanOut(client, batch, { id, ...event });
  return { id, duplicate: false, deliveries };
}

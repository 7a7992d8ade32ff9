import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { fanOut, type FannedOut } from './fan-out.js';

/**
 * Fans a stored event out again against today's subscriptions: new deliveries, same event
 * id (so `webhook-id` lets receivers de-duplicate). `undefined` when the event is unknown.
 */
export function replayEvent(pool: Pool, boss: PgBoss, eventId: string): Promise<FannedOut[] | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string; source_id: string | null; type: string; headers: Record<string, string>; content_type: string | null; body: Buffer; idempotency_key: string | null }>(
      'select id, source_id, type, headers, content_type, body, idempotency_key from event where id = $1',
      [eventId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return fanOut(client, boss, { id: row.id, sourceId: row.source_id, type: row.type, headers: row.headers, contentType: row.content_type, body: row.body, idempotencyKey: row.idempotency_key }, { alone: true });
  });
}

import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { deliveryJob, DELIVERY_QUEUE, onClient } from '../queue/boss.js';
import { notifyDeliveryChanges } from '../db/notify/send.js';

const RETRYABLE: DeliveryStatus[] = ['DEAD', 'RETRYING'];

/**
 * Queues the next attempt of a DEAD or RETRYING delivery now, in the fresh-delivery lane. A
 * RETRYING delivery keeps its scheduled job: whichever job runs first claims the attempt and
 * the other finds it recorded and does nothing. After a manual retry that fails, the schedule
 * is exhausted, so the delivery goes back to DEAD (one more try, as Svix does).
 */
export async function retryDeliveryNow(pool: Pool, boss: PgBoss, deliveryId: string): Promise<{ queued: Record<string, unknown> } | 'not-found' | DeliveryStatus> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus; attempt_count: number; relay_id: string; max_concurrency: number }>(
      'select d.status, d.attempt_count, d.relay_id, r.max_concurrency from delivery d join relay r on r.id = d.relay_id where d.id = $1 for update of d',
      [deliveryId],
    );
    const row = rows[0];
    if (!row) return 'not-found';
    if (!RETRYABLE.includes(row.status)) return row.status;
    const updated = await client.query(`update delivery set status = 'PENDING', next_attempt_at = now(), updated_at = now() where id = $1 returning *`, [deliveryId]);
    await boss.insert(DELIVERY_QUEUE, [deliveryJob(deliveryId, row.attempt_count + 1, row.relay_id, row.max_concurrency)], { db: onClient(client) });
    await notifyDeliveryChanges(client, [{ id: deliveryId, status: 'PENDING', attemptCount: row.attempt_count }]);
    // The row as this transaction left it: a worker may claim it before the caller reads it.
    return { queued: updated.rows[0] as Record<string, unknown> };
  });
}

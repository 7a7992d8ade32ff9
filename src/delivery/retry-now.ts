import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryRow } from '../db/delivery-row.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { queueDeliveries } from './enqueue.js';
import { mayMove } from './status-machine.js';
import { requeueInLines } from './ordering/lines.js';

/**
 * Queues the next attempt of a DEAD or RETRYING delivery now, in the fresh-delivery lane. A
 * RETRYING delivery keeps its scheduled job: whichever job runs first claims the attempt and
 * the other finds it recorded and does nothing. After a manual retry that fails, the schedule
 * is exhausted, so the delivery goes back to DEAD (one more try, as Svix does). A delivery of
 * an ordered key goes now only as its line's head; a DEAD one its line went on without joins
 * the back of the line (delivery/ordering/lines.ts).
 */
export async function retryDeliveryNow(pool: Pool, boss: PgBoss, deliveryId: string): Promise<{ queued: DeliveryRow } | 'not-found' | DeliveryStatus> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus; attempt_count: number; relay_id: string; max_concurrency: number; ordering_key: string | null }>(
      'select d.status, d.attempt_count, d.relay_id, r.max_concurrency, d.ordering_key from delivery d join relay r on r.id = d.relay_id where d.id = $1 for update of d',
      [deliveryId],
    );
    const row = rows[0];
    if (!row) return 'not-found';
    if (!mayMove(row.status, 'PENDING', 'operator-retry')) return row.status;
    const updated = await client.query<DeliveryRow>(`update delivery set status = 'PENDING', next_attempt_at = now(), updated_at = now(), batch_id = null, alone = true where id = $1 returning *`, [deliveryId]);
    if (row.ordering_key !== null) {
      await requeueInLines(client, boss, [{ deliveryId, relayId: row.relay_id, key: row.ordering_key, status: 'PENDING', attemptCount: row.attempt_count, maxConcurrency: row.max_concurrency }]);
    } else {
      await queueDeliveries(client, boss, [{ id: deliveryId, status: 'PENDING', attemptCount: row.attempt_count, job: { relayId: row.relay_id, maxConcurrency: row.max_concurrency } }]);
    }
    // The row as this transaction left it: a worker may claim it before the caller reads it.
    return { queued: updated.rows[0]! };
  });
}

import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { notifyDeliveryChanges } from '../db/notify/send.js';
import { deliveryJob, DELIVERY_QUEUE, onClient } from '../queue/boss.js';

const BATCH = 500;

/**
 * Re-queues every DEAD or RETRYING delivery matching `where` (a WHERE fragment on `delivery d`
 * with its parameters), in batches of their own transactions, and returns how many. Each batch
 * takes the oldest matching rows still in those states, so the loop ends, and a crash midway
 * leaves the rest for the next call. Deliveries of disabled relays are left HELD-bound.
 */
export async function retryDeliveries(pool: Pool, boss: PgBoss, where: string, params: unknown[]): Promise<number> {
  const condition = where ? `${where.replace(/^where /, '')} and` : '';
  let total = 0;
  for (;;) {
    const queued = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: string; attempt_count: number; relay_id: string; max_concurrency: number }>(
        `with picked as (
           select d.id from delivery d join relay r on r.id = d.relay_id
           where ${condition} d.status in ('DEAD', 'RETRYING') and r.enabled
           order by d.created_at, d.id limit ${BATCH} for update of d skip locked
         )
         update delivery d set status = 'PENDING', next_attempt_at = now(), updated_at = now()
         from picked, relay r where d.id = picked.id and r.id = d.relay_id
         returning d.id, d.attempt_count, d.relay_id, r.max_concurrency`,
        params,
      );
      if (rows.length === 0) return 0;
      await boss.insert(DELIVERY_QUEUE, rows.map((d) => deliveryJob(d.id, d.attempt_count + 1, d.relay_id, d.max_concurrency)), { db: onClient(client) });
      await notifyDeliveryChanges(client, rows.map((d) => ({ id: d.id, status: 'PENDING' as DeliveryStatus, attemptCount: d.attempt_count })));
      return rows.length;
    });
    total += queued;
    if (queued < BATCH) return total;
  }
}

const CANCELLABLE: DeliveryStatus[] = ['PENDING', 'RETRYING', 'HELD'];

/**
 * Stops a delivery that has not finished: CANCELLED is final, and its job (if any) finds
 * nothing to claim. A delivery in flight (DELIVERING) cannot be cancelled: its attempt is
 * already on the wire.
 */
export function cancelDelivery(pool: Pool, deliveryId: string): Promise<{ cancelled: Record<string, unknown> } | 'not-found' | DeliveryStatus> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus }>('select status from delivery where id = $1 for update', [deliveryId]);
    const row = rows[0];
    if (!row) return 'not-found';
    if (!CANCELLABLE.includes(row.status)) return row.status;
    const updated = await client.query(`update delivery set status = 'CANCELLED', next_attempt_at = null, updated_at = now() where id = $1 returning *`, [deliveryId]);
    const cancelled = updated.rows[0] as { attempt_count: number };
    await notifyDeliveryChanges(client, [{ id: deliveryId, status: 'CANCELLED', attemptCount: cancelled.attempt_count }]);
    return { cancelled: updated.rows[0] as Record<string, unknown> };
  });
}

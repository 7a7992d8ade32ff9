import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { deliveryConditionsSql, type DeliveryFilter } from './delivery-filter.js';
import { queueDeliveries } from './enqueue.js';
import { RETRYABLE, sqlList } from './status-machine.js';
import { requeueInLines } from './ordering/lines.js';

const BATCH = 500;

/**
 * Re-queues every DEAD or RETRYING delivery matching `filter`, in batches of their own
 * transactions, and returns how many. Each batch takes the oldest matching rows still in
 * those states, so the loop ends, and a crash midway leaves the rest for the next call.
 * Deliveries of disabled relays are left HELD-bound. Those of ordered keys go as retry-now.ts
 * says: now as their line's head, else at the back of their line, oldest first.
 */
export async function retryDeliveries(pool: Pool, boss: PgBoss, filter: DeliveryFilter): Promise<number> {
  const { conditions, params } = deliveryConditionsSql(filter);
  const where = [...conditions, `d.status in ${sqlList(RETRYABLE)}`, 'r.enabled'].join(' and ');
  let total = 0;
  for (;;) {
    const queued = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: string; attempt_count: number; relay_id: string; max_concurrency: number; ordering_key: string | null; ordering_position: string | null }>(
        `with picked as (
           select d.id from delivery d join relay r on r.id = d.relay_id
           where ${where}
           order by d.created_at, d.id limit ${BATCH} for update of d skip locked
         )
         update delivery d set status = 'PENDING', next_attempt_at = now(), updated_at = now(), batch_id = null, alone = true
         from picked, relay r where d.id = picked.id and r.id = d.relay_id
         returning d.id, d.attempt_count, d.relay_id, r.max_concurrency, d.ordering_key, d.ordering_position::text`,
        params,
      );
      if (rows.length === 0) return 0;
      const unordered = rows.filter((d) => d.ordering_key === null);
      await queueDeliveries(client, boss, unordered.map((d) => ({ id: d.id, status: 'PENDING' as const, attemptCount: d.attempt_count, job: { relayId: d.relay_id, maxConcurrency: d.max_concurrency } })));
      // RETURNING gives no order: they join their lines in the order they had in them.
      const keyed = rows.filter((d) => d.ordering_key !== null).sort((a, b) => (BigInt(a.ordering_position ?? 0) < BigInt(b.ordering_position ?? 0) ? -1 : 1));
      await requeueInLines(client, boss, keyed.map((d) => ({ deliveryId: d.id, relayId: d.relay_id, key: d.ordering_key!, status: 'PENDING' as const, attemptCount: d.attempt_count, maxConcurrency: d.max_concurrency })));
      return rows.length;
    });
    total += queued;
    if (queued < BATCH) return total;
  }
}

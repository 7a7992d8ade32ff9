import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryRow } from '../db/delivery-row.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { announceDeliveries } from './enqueue.js';
import { mayMove } from './status-machine.js';
import { settleLines } from './ordering/lines.js';

/**
 * Stops a delivery that has not finished: CANCELLED is final, and its job (if any) finds
 * nothing to claim. A delivery in flight (DELIVERING) cannot be cancelled: its attempt is
 * already on the wire. A cancelled head of an ordered key hands its line to the next delivery.
 * Returns the row as cancelled, or the status that refused it.
 */
export function cancelDelivery(pool: Pool, boss: PgBoss, deliveryId: string): Promise<{ cancelled: DeliveryRow } | 'not-found' | DeliveryStatus> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus; relay_id: string; ordering_key: string | null }>('select status, relay_id, ordering_key from delivery where id = $1 for update', [deliveryId]);
    const row = rows[0];
    if (!row) return 'not-found';
    if (!mayMove(row.status, 'CANCELLED', 'operator-cancel')) return row.status;
    const updated = await client.query<DeliveryRow>(`update delivery set status = 'CANCELLED', next_attempt_at = null, updated_at = now() where id = $1 returning *`, [deliveryId]);
    const cancelled = updated.rows[0]!;
    await announceDeliveries(client, [{ id: deliveryId, status: 'CANCELLED', attemptCount: cancelled.attempt_count }]);
    if (row.ordering_key !== null) await settleLines(client, boss, [{ relayId: row.relay_id, key: row.ordering_key }]);
    return { cancelled };
  });
}

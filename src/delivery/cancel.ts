import type { Pool } from 'pg';
import type { DeliveryRow } from '../db/delivery-row.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { announceDeliveries } from './enqueue.js';
import { mayMove } from './status-machine.js';

/**
 * Stops a delivery that has not finished: CANCELLED is final, and its job (if any) finds
 * nothing to claim. A delivery in flight (DELIVERING) cannot be cancelled: its attempt is
 * already on the wire. Returns the row as cancelled, or the status that refused it.
 */
export function cancelDelivery(pool: Pool, deliveryId: string): Promise<{ cancelled: DeliveryRow } | 'not-found' | DeliveryStatus> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus }>('select status from delivery where id = $1 for update', [deliveryId]);
    const row = rows[0];
    if (!row) return 'not-found';
    if (!mayMove(row.status, 'CANCELLED', 'operator-cancel')) return row.status;
    const updated = await client.query<DeliveryRow>(`update delivery set status = 'CANCELLED', next_attempt_at = null, updated_at = now() where id = $1 returning *`, [deliveryId]);
    const cancelled = updated.rows[0]!;
    await announceDeliveries(client, [{ id: deliveryId, status: 'CANCELLED', attemptCount: cancelled.attempt_count }]);
    return { cancelled };
  });
}

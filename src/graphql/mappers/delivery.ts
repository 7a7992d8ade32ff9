import type { DeliveryRow } from '../../db/delivery-row.js';
import { date } from '../rows.js';
import type { DeliveryType } from '../types/delivery.js';

/** The columns `toDeliveryType` reads, for a query over `delivery d`. */
export const DELIVERY_COLUMNS = 'd.id, d.event_id, d.relay_id, d.subscription_id, d.status, d.attempt_count, d.next_attempt_at, d.last_attempt_at, d.created_at, d.updated_at, d.ordering_key, d.unordered_reason, d.batch_id';

export function toDeliveryType(row: DeliveryRow): DeliveryType {
  return {
    id: row.id,
    eventId: row.event_id,
    relayId: row.relay_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: date(row.next_attempt_at),
    lastAttemptAt: date(row.last_attempt_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    orderingKey: row.ordering_key ?? null,
    unorderedReason: row.unordered_reason ?? null,
    batchId: row.batch_id ?? null,
  };
}

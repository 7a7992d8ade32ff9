import type { DeliveryStatus } from '../db/entities/delivery.js';
import { notifyCoalesced, type Queryable } from './coalesced-notify.js';

/** The channel every delivery status change is announced on. */
export const DELIVERY_CHANNEL = 'hookyard_delivery';

export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
}

/**
 * Payload: `<id>:<status>:<attempts>` entries, coalesced per transaction. For the live feed it
 * is only a wake-up (DeliveryFeed reads `delivery_change`, which triggers fill at commit);
 * the payload serves whoever reads NOTIFYs directly (`psql`'s LISTEN, log lines).
 */
export function notifyDeliveryChanges(client: Queryable, changes: readonly DeliveryChange[]): Promise<void> {
  return notifyCoalesced(client, DELIVERY_CHANNEL, changes.map((c) => `${c.id}:${c.status}:${c.attemptCount}`));
}

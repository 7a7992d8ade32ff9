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
 * Payload: `<id>:<status>:<attempts>` entries — the id, status and attempt count only (the API
 * replica loads the rest once), coalesced per transaction.
 */
export function notifyDeliveryChanges(client: Queryable, changes: readonly DeliveryChange[]): Promise<void> {
  return notifyCoalesced(client, DELIVERY_CHANNEL, changes.map((c) => `${c.id}:${c.status}:${c.attemptCount}`));
}

export function parseDeliveryChanges(payload: string): DeliveryChange[] {
  return payload.split(',').flatMap((entry) => {
    const [id, status, attempts] = entry.split(':');
    if (!id || !status || attempts === undefined) return [];
    return [{ id, status: status as DeliveryStatus, attemptCount: Number(attempts) }];
  });
}

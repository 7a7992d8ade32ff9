import type { DeliveryStatus } from '../db/entities/delivery.js';

/** The channel every delivery status change is announced on. */
export const DELIVERY_CHANNEL = 'hookyard_delivery';

export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** NOTIFY's payload limit is 8000 bytes; one change is about 55. */
const MAX_PAYLOAD = 7800;

/**
 * Payload: `<id>:<status>:<attempts>` entries joined by `,` — the id, status and attempt count
 * only (the API replica loads the rest once). Runs on the caller's connection, so the
 * notification is sent when (and only if) the caller's transaction commits, in commit order.
 * Many changes in one transaction go out as few notifications as fit.
 */
export async function notifyDeliveryChanges(client: Queryable, changes: readonly DeliveryChange[]): Promise<void> {
  let payload = '';
  for (const change of changes) {
    const entry = `${change.id}:${change.status}:${change.attemptCount}`;
    if (payload && payload.length + 1 + entry.length > MAX_PAYLOAD) {
      await client.query('select pg_notify($1, $2)', [DELIVERY_CHANNEL, payload]);
      payload = '';
    }
    payload = payload ? `${payload},${entry}` : entry;
  }
  if (payload) await client.query('select pg_notify($1, $2)', [DELIVERY_CHANNEL, payload]);
}

export function parseDeliveryChanges(payload: string): DeliveryChange[] {
  return payload.split(',').flatMap((entry) => {
    const [id, status, attempts] = entry.split(':');
    if (!id || !status || attempts === undefined) return [];
    return [{ id, status: status as DeliveryStatus, attemptCount: Number(attempts) }];
  });
}

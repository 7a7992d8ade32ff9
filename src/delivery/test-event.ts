import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { notifyDeliveryChanges } from '../db/notify/send.js';
import { dispatch, type DispatchDeps } from './dispatch.js';

/**
 * `sendTestEvent`: a signed `hookyard.test` event sent to one relay now, in the caller's
 * process, recorded like any delivery (one try, no retries, no effect on the relay's health,
 * even if the relay is disabled: that is when one wants to test it). Returns the attempt id,
 * or undefined when the relay does not exist.
 */
export async function sendTestEvent(deps: DispatchDeps, relayId: string): Promise<string | undefined> {
  const deliveryId = newId();
  const created = await inTransaction(deps.pool, async (client) => {
    const relay = await client.query('select 1 from relay where id = $1', [relayId]);
    if (relay.rowCount === 0) return false;
    const eventId = newId();
    const body = JSON.stringify({ type: 'hookyard.test', timestamp: new Date().toISOString(), data: { message: 'A test event from Hookyard' } });
    await client.query(
      `insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
       values ($1, null, 'hookyard.test', null, '{}', 'application/json', $2, now())`,
      [eventId, Buffer.from(body)],
    );
    await client.query(`insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at) values ($1, $2, $3, 'PENDING', 0, now(), now())`, [deliveryId, eventId, relayId]);
    await notifyDeliveryChanges(client, [{ id: deliveryId, status: 'PENDING', attemptCount: 0 }]);
    return true;
  });
  if (!created) return undefined;
  await dispatch(deps, { deliveryId, attempt: 1 }, undefined, { oneShot: true, ignoreDisabled: true });
  const { rows } = await deps.pool.query<{ id: string }>('select id from attempt where delivery_id = $1', [deliveryId]);
  return rows[0]?.id;
}

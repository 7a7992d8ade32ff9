import { inTransaction } from '../db/transaction.js';
import { storeSystemEvent } from '../events/system-event.js';
import { dispatch, type DispatchDeps } from './dispatch.js';
import { recordOutcomesNow } from './transitions.js';

/**
 * `sendTestEvent`: a signed `hookyard.test` event sent to one relay now, in the caller's
 * process, recorded like any delivery (one try, no retries, no effect on the relay's health,
 * even if the relay is disabled: that is when one wants to test it). Returns the attempt id,
 * or undefined when the relay does not exist.
 */
export async function sendTestEvent(deps: DispatchDeps, relayId: string): Promise<string | undefined> {
  const deliveryId = await inTransaction(deps.pool, async (client) => {
    const relay = await client.query<{ enabled: boolean; max_concurrency: number }>('select enabled, max_concurrency from relay where id = $1', [relayId]);
    const found = relay.rows[0];
    if (!found) return undefined;
    const stored = await storeSystemEvent(client, deps.boss, {
      type: 'hookyard.test',
      data: { message: 'A test event from Hookyard' },
      to: { relayId, relayEnabled: found.enabled, maxConcurrency: found.max_concurrency, sendsItself: true },
    });
    return stored.deliveryId;
  });
  if (!deliveryId) return undefined;
  // A rare, operator-made send: its outcome commits in a transaction of its own.
  await dispatch(deps, (item) => recordOutcomesNow(deps, [item]), { deliveryId, attempt: 1 }, undefined, { oneShot: true, ignoreDisabled: true });
  const { rows } = await deps.pool.query<{ id: string }>('select id from attempt where delivery_id = $1', [deliveryId]);
  return rows[0]?.id;
}

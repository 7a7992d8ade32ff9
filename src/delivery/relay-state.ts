import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { channels } from '../db/notify/channels.js';
import { notify, notifyDeliveryChanges } from '../db/notify/send.js';
import { deliveryJob, DELIVERY_QUEUE, onClient } from '../queue/boss.js';


/**
 * Disables a relay on the caller's transaction: its waiting deliveries become HELD (never
 * dropped), and new ones are HELD as they arrive. Their pg-boss jobs may stay behind; a HELD
 * delivery is never claimed, so they complete as no-ops, and pg-boss retention can delete
 * them without losing anything. Returns false when the relay was already disabled.
 */
export async function disableRelay(client: PoolClient, relayId: string, reason: string): Promise<boolean> {
  const updated = await client.query(
    'update relay set enabled = false, disabled_reason = $2, updated_at = now() where id = $1 and enabled returning id',
    [relayId, reason.slice(0, 500)],
  );
  if (updated.rowCount === 0) return false;
  const held = await client.query<{ id: string; attempt_count: number }>(
    `update delivery set status = 'HELD', next_attempt_at = null, updated_at = now()
     where relay_id = $1 and status in ('PENDING', 'RETRYING') returning id, attempt_count`,
    [relayId],
  );
  await notifyDeliveryChanges(client, held.rows.map((d) => ({ id: d.id, status: 'HELD' as DeliveryStatus, attemptCount: d.attempt_count })));
  await notify(client, channels.relay, [relayId]);
  return true;
}

const ENABLE_BATCH = 1000;

/**
 * Enables a relay and queues every HELD delivery of it for an attempt now, in batches (a relay
 * may have held a long backlog). Returns how many were queued.
 */
export async function enableRelay(client: PoolClient, boss: PgBoss, relayId: string): Promise<number> {
  const relay = await client.query<{ max_concurrency: number }>(
    `update relay set enabled = true, disabled_reason = null, consecutive_dead = 0, failing_since = null, updated_at = now()
     where id = $1 returning max_concurrency`,
    [relayId],
  );
  const limit = relay.rows[0]?.max_concurrency ?? 10;
  let queued = 0;
  for (;;) {
    const batch = await client.query<{ id: string; attempt_count: number }>(
      `update delivery set status = case when attempt_count = 0 then 'PENDING' else 'RETRYING' end, next_attempt_at = now(), updated_at = now()
       where id in (select id from delivery where relay_id = $1 and status = 'HELD' limit ${ENABLE_BATCH})
       returning id, attempt_count`,
      [relayId],
    );
    if (batch.rows.length === 0) break;
    await boss.insert(DELIVERY_QUEUE, batch.rows.map((d) => deliveryJob(d.id, d.attempt_count + 1, relayId, limit)), { db: onClient(client) });
    await notifyDeliveryChanges(client, batch.rows.map((d) => ({ id: d.id, status: (d.attempt_count === 0 ? 'PENDING' : 'RETRYING') as DeliveryStatus, attemptCount: d.attempt_count })));
    queued += batch.rows.length;
    if (batch.rows.length < ENABLE_BATCH) break;
  }
  await notify(client, channels.relay, [relayId]);
  return queued;
}

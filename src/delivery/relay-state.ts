import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { channels } from '../db/notify/channels.js';
import { notify } from '../db/notify/send.js';
import { alertRelayDisabled } from './alerts.js';
import { announceDeliveries, queueDeliveries } from './enqueue.js';
import { settleLines, type LineRef } from './ordering/lines.js';
import { HOLDABLE, movableBy, sqlList, WAITING_STATUS_SQL, waitingStatus } from './status-machine.js';

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
     where relay_id = $1 and status in ${sqlList(HOLDABLE)} returning id, attempt_count`,
    [relayId],
  );
  await announceDeliveries(client, held.rows.map((d) => ({ id: d.id, status: 'HELD' as const, attemptCount: d.attempt_count })));
  await notify(client, channels.relay, [relayId]);
  return true;
}

/**
 * `disableRelay`, and when it did disable the relay (by an operator or by its health record),
 * the `relay.disabled` alert on the same transaction.
 */
export async function disableRelayAndAlert(client: PoolClient, boss: PgBoss, alertRelayId: string | undefined, relayId: string, reason: string): Promise<boolean> {
  if (!(await disableRelay(client, relayId, reason))) return false;
  await alertRelayDisabled(client, boss, alertRelayId, relayId, reason);
  return true;
}

const ENABLE_BATCH = 1000;

/**
 * Enables a relay and queues every HELD delivery of it for an attempt now, in batches (a relay
 * may have held a long backlog): of an ordered key, only the line's head (the rest follow it).
 * Returns how many deliveries it made waiting again.
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
    const batch = await client.query<{ id: string; attempt_count: number; ordering_key: string | null }>(
      `update delivery set status = ${WAITING_STATUS_SQL}, next_attempt_at = now(), updated_at = now()
       where id in (select id from delivery where relay_id = $1 and status in ${sqlList(movableBy('relay-enable'))} limit ${ENABLE_BATCH})
       returning id, attempt_count, ordering_key`,
      [relayId],
    );
    if (batch.rows.length === 0) break;
    // Due now: the first-try lane (the one their NOTIFY wakes), retries included.
    await queueDeliveries(client, boss, batch.rows.map((d) => ({ id: d.id, status: waitingStatus(d.attempt_count), attemptCount: d.attempt_count, job: d.ordering_key === null ? { relayId, maxConcurrency: limit } : undefined })));
    const lines = new Map<string, LineRef>(batch.rows.flatMap((d) => (d.ordering_key === null ? [] : [[d.ordering_key, { relayId, key: d.ordering_key }]])));
    await settleLines(client, boss, [...lines.values()], { requeueHeads: true });
    queued += batch.rows.length;
    if (batch.rows.length < ENABLE_BATCH) break;
  }
  await notify(client, channels.relay, [relayId]);
  return queued;
}

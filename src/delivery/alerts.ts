import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { maskUrl } from '../crypto/redact.js';
import { newId } from '../ids.js';
import { notifyDeliveryChanges } from '../db/notify/send.js';
import { deliveryJob, DELIVERY_QUEUE, onClient } from '../queue/boss.js';

/**
 * A signed `relay.disabled` event for the alert relay (HOOKYARD_ALERT_RELAY_ID), on the
 * transaction that disabled the relay: the alert is as durable as the change it reports.
 * Delivered to that relay only, whatever the subscriptions say; never about itself. The
 * relay's URL is masked (`https://host/***`) as READ tokens see it.
 */
export async function alertRelayDisabled(client: PoolClient, boss: PgBoss, alertRelayId: string | undefined, relayId: string, reason: string): Promise<void> {
  if (!alertRelayId || alertRelayId === relayId) return;
  const { rows } = await client.query<{ name: string; url: string; alert_enabled: boolean | null; alert_concurrency: number | null }>(
    `select r.name, r.url, a.enabled as alert_enabled, a.max_concurrency as alert_concurrency
     from relay r left join relay a on a.id = $2 where r.id = $1`,
    [relayId, alertRelayId],
  );
  const relay = rows[0];
  if (!relay || relay.alert_enabled === null) return;
  const eventId = newId();
  // Stored as an event that READ tokens may read: the URL is masked as they see it.
  const body = JSON.stringify({ type: 'relay.disabled', timestamp: new Date().toISOString(), data: { relayId, name: relay.name, url: maskUrl(relay.url), reason } });
  await client.query(
    `insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
     values ($1, null, 'relay.disabled', null, '{}', 'application/json', $2, now())`,
    [eventId, Buffer.from(body)],
  );
  const deliveryId = newId();
  const status = relay.alert_enabled ? 'PENDING' : 'HELD';
  await client.query(
    `insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at) values ($1, $2, $3, $4, 0, now(), now())`,
    [deliveryId, eventId, alertRelayId, status],
  );
  if (relay.alert_enabled) await boss.insert(DELIVERY_QUEUE, [deliveryJob(deliveryId, 1, alertRelayId, relay.alert_concurrency ?? 10)], { db: onClient(client) });
  await notifyDeliveryChanges(client, [{ id: deliveryId, status, attemptCount: 0 }]);
}

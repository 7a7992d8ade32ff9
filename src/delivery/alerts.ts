import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { maskUrl } from '../crypto/redact.js';
import { storeSystemEvent } from '../events/system-event.js';

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
  // Stored as an event that READ tokens may read: the URL is masked as they see it.
  await storeSystemEvent(client, boss, {
    type: 'relay.disabled',
    data: { relayId, name: relay.name, url: maskUrl(relay.url), reason },
    to: { relayId: alertRelayId, relayEnabled: relay.alert_enabled, maxConcurrency: relay.alert_concurrency ?? 10 },
  });
}

import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { maskUrl } from '../crypto/redact.js';
import { storeOperationalEvents } from '../events/operational-event.js';

/**
 * The `relay.disabled` operational event, on the transaction that disabled the relay: the
 * alert is as durable as the change it reports. It goes to the subscriptions of the built-in
 * source, and, as before subscriptions could take it, to the alert relay of
 * HOOKYARD_ALERT_RELAY_ID (unless a subscription of that relay already took it, and never
 * about itself). Marks the relay reported, so its first success once enabled again sends
 * `relay.recovered`. The relay's URL is masked (`https://host/***`) as READ tokens see it.
 */
export async function alertRelayDisabled(client: PoolClient, boss: PgBoss, alertRelayId: string | undefined, relayId: string, reason: string): Promise<void> {
  const { rows } = await client.query<{ name: string; url: string; alert_enabled: boolean | null; alert_concurrency: number | null }>(
    `with marked as (update relay set failing_alerted_at = coalesce(failing_alerted_at, now()) where id = $1 returning name, url)
     select m.name, m.url, a.enabled as alert_enabled, a.max_concurrency as alert_concurrency
     from marked m left join relay a on a.id = $2 and a.id <> $1`,
    [relayId, alertRelayId ?? null],
  );
  const relay = rows[0];
  if (!relay) return;
  const alsoTo = relay.alert_enabled === null ? undefined : { relayId: alertRelayId!, relayEnabled: relay.alert_enabled, maxConcurrency: relay.alert_concurrency ?? 10 };
  // Stored as an event that READ tokens may read: the URL is masked as they see it.
  await storeOperationalEvents(client, boss, [{ type: 'relay.disabled', data: { relayId, name: relay.name, url: maskUrl(relay.url), reason }, alsoTo }]);
}

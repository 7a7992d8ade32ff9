import type { Pool } from 'pg';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { DELIVERY_CHANNEL } from '../live/delivery-changes.js';
import type { DeliveryJob } from '../queue/boss.js';
import type { ClaimedRow } from './build-request.js';

export type Claimed = ClaimedRow & { status: DeliveryStatus; attempt: number };

/**
 * Marks a batch of deliveries DELIVERING (HELD when their relay is disabled), announces them
 * in one NOTIFY, and loads everything their requests need, in one statement: one commit for
 * the whole batch, where a statement per delivery would queue every claim behind the NOTIFY
 * lock. The attempt number guards idempotency: a job whose attempt is already recorded (a
 * worker died after our commit but before pg-boss completed the job) claims nothing.
 * DELIVERING is claimable again: that is how a delivery whose worker was killed mid-request
 * is recovered when pg-boss hands its job out again.
 */
const CLAIM = `
  with input as (select * from unnest($1::uuid[], $2::int[]) as i(id, attempt)),
  claimed as (
    update delivery d set status = case when r.enabled or $3::boolean then 'DELIVERING' else 'HELD' end, updated_at = now()
    from relay r, input i
    where d.id = i.id and r.id = d.relay_id and d.attempt_count = i.attempt - 1 and d.status in ('PENDING', 'RETRYING', 'DELIVERING')
    returning d.id, d.status, d.created_at, d.event_id, d.relay_id, d.subscription_id, i.attempt
  ),
  notified as (
    select pg_notify('${DELIVERY_CHANNEL}', string_agg(c.id || ':' || c.status || ':' || (c.attempt - 1), ',')) as sent
    from claimed c having count(*) > 0
  )
  select c.id, c.status, c.attempt, c.created_at, c.relay_id, e.id as event_id, e.type, e.body, e.content_type, e.headers as event_headers,
         src.slug as source_slug, r.url, r.method, r.headers_sealed, r.signing_secret_sealed, r.previous_signing_secret_sealed,
         r.previous_signing_secret_expires_at, r.timeout_ms, r.retry_schedule, r.max_age_seconds, r.max_concurrency,
         r.rate_limit_per_second, r.proxy_url, r.proxy_url_sealed, s.forward_headers
  from claimed c
  cross join notified
  join event e on e.id = c.event_id
  join relay r on r.id = c.relay_id
  left join source src on src.id = e.source_id
  left join event_subscription s on s.id = c.subscription_id`;

export async function claimDeliveries(pool: Pool, jobs: readonly DeliveryJob[], ignoreDisabled = false): Promise<Map<string, Claimed>> {
  const { rows } = await pool.query<Claimed>(CLAIM, [jobs.map((j) => j.deliveryId), jobs.map((j) => j.attempt), ignoreDisabled]);
  return new Map(rows.map((row) => [row.id, row]));
}

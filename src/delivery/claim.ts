import type { ClientBase, Pool } from 'pg';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { channels, deliveryEntrySql } from '../db/notify/channels.js';
import { notifySql } from '../db/notify/send.js';
import type { DeliveryJob } from '../queue/boss.js';
import type { ClaimedRow } from './build-request.js';
import { CLAIMABLE, sqlList } from './status-machine.js';

export type Claimed = ClaimedRow & {
  status: DeliveryStatus;
  /** The attempt this claim performs: one more than the attempts recorded, INTERRUPTED included. */
  attempt: number;
  /** This claim recorded an attempt of its job cut short by a crash (number `attempt - 1`). */
  interrupted: boolean;
  /** The job that holds the claim: in one fetch, a batch's job claims several deliveries. */
  claimed_by: string;
};

export interface ClaimInput {
  job: DeliveryJob;
  /** The pg-boss job id: the same when pg-boss hands out a job again after its worker died. */
  jobId: string;
}

export const INTERRUPTED_MESSAGE = 'the worker stopped while this request was in flight; the receiver may have it';

/**
 * Marks a batch of deliveries DELIVERING (HELD when their relay is disabled), announces them
 * in one NOTIFY, and loads everything their requests need, in one statement: one commit for
 * the whole batch, where a statement per delivery would queue every claim behind the NOTIFY
 * lock. The attempt number guards idempotency: a job whose attempt is already recorded (a
 * worker died after our commit but before pg-boss completed the job) claims nothing.
 *
 * Interrupted attempts: the claim stamps the row with its job's id and the time
 * (`claimed_by`, `claimed_at`), in the write that marks it DELIVERING anyway, so an attempt
 * costs no extra write. The recording of its outcome clears `claimed_by`, a release at
 * shutdown keeps it. A delivery still DELIVERING when the same job comes back (pg-boss hands
 * it out again once its worker stopped heartbeating) therefore had a request in flight that
 * nobody recorded: this statement records it as attempt `attempt_count + 1`, INTERRUPTED,
 * started at the old claim, and the new claim performs the attempt after it. A request that
 * was never sent was released (not DELIVERING), so it records nothing. Only that job may
 * resume it: another job for the same attempt (`retryDelivery` of a RETRYING delivery) finds
 * it claimed and does nothing, where it used to send a second copy. A row left DELIVERING by
 * a version without `claimed_by` is resumed by any job for its attempt, as before.
 *
 * A delivery of an ordered key is claimed only while it is its line's head (delivery/ordering/
 * lines.ts): only heads are given jobs, and this makes a job that outlived its head's turn a
 * no-op, so two deliveries of one key are never in flight at once whatever queued them.
 *
 * The old row (status, claimed_at) comes from a self-join, read in the statement's snapshot:
 * PostgreSQL before 18 cannot RETURNING old values. Only the worker that held the claim could
 * change the row in between, and then only if pg-boss gave its job away while it was alive.
 */
const CLAIM = `
  with input as (select * from unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[]) as i(id, attempt, job_id, interrupted_id)),
  claimed as (
    update delivery d set status = case when r.enabled or $5::boolean then 'DELIVERING' else 'HELD' end,
           attempt_count = d.attempt_count + (old.status = 'DELIVERING')::int,
           last_attempt_at = case when old.status = 'DELIVERING' then coalesce(old.claimed_at, old.updated_at) else d.last_attempt_at end,
           claimed_at = now(), claimed_by = i.job_id, updated_at = now()
    from input i, delivery old, relay r
    where old.id = i.id and d.id = i.id and r.id = d.relay_id
      and (d.claimed_by = i.job_id or (d.attempt_count = i.attempt - 1 and (d.status <> 'DELIVERING' or d.claimed_by is null)))
      and (d.status in ${sqlList(CLAIMABLE)}) is true
      and (d.ordering_key is null or exists (select 1 from ordering_line l where l.relay_id = d.relay_id and l.key = d.ordering_key and l.head_id = d.id))
    returning d.id, d.status, d.attempt_count + 1 as attempt, old.status = 'DELIVERING' as interrupted, i.interrupted_id, d.last_attempt_at,
              d.created_at, d.event_id, d.relay_id, d.subscription_id, d.ordering_key, d.batch_id, d.alone, i.job_id as claimed_by
  ),
  recorded as (
    insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, error_class, error_message)
    select c.interrupted_id, c.id, c.attempt - 1, c.last_attempt_at, 0, '{}'::jsonb, 'INTERRUPTED', $6
    from claimed c where c.interrupted
  ),
  notified as (
    select ${notifySql(channels.delivery, `array_agg(${deliveryEntrySql('c.id', 'c.status', 'c.attempt - 1')})`)} as sent
    from claimed c having count(*) > 0
  )
  select c.id, c.status, c.attempt, c.interrupted, c.created_at, c.relay_id, c.ordering_key, c.batch_id, c.alone, c.claimed_by, e.id as event_id, e.type, e.body, e.content_type, e.headers as event_headers,
         e.correlation_id, e.traceparent, e.received_at, r.batch_max_events, r.batch_max_bytes, r.batch_max_wait_ms,
         src.slug as source_slug, r.url, r.method, r.headers_sealed, r.signing_secret_sealed, r.previous_signing_secret_sealed,
         r.previous_signing_secret_expires_at, r.timeout_ms, r.retry_schedule, r.max_age_seconds, r.max_concurrency,
         r.rate_limit_per_second, r.proxy_url, r.proxy_url_sealed, s.forward_headers, r.kind,
         r.smtp_host, r.smtp_port, r.smtp_tls, r.smtp_user, r.smtp_password_sealed, r.email_from, r.email_to, r.email_subject
  from claimed c
  cross join notified
  join event e on e.id = c.event_id
  join relay r on r.id = c.relay_id
  left join source src on src.id = e.source_id
  left join event_subscription s on s.id = c.subscription_id`;

export async function claimDeliveries(db: Pool | ClientBase, inputs: readonly ClaimInput[], newId: () => string, ignoreDisabled = false): Promise<Map<string, Claimed>> {
  const { rows } = await db.query<Claimed>({ name: 'hookyard-claim', text: CLAIM, values: [
    inputs.map((i) => i.job.deliveryId), inputs.map((i) => i.job.attempt), inputs.map((i) => i.jobId),
    // An id ready for each delivery's interrupted attempt, used only when there is one.
    inputs.map(() => newId()), ignoreDisabled, INTERRUPTED_MESSAGE,
  ] });
  return new Map(rows.map((row) => [row.id, row]));
}

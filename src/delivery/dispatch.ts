import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { DELIVERY_CHANNEL, notifyDeliveryChanges } from '../live/delivery-changes.js';
import type { Logger } from '../log.js';
import { deliveryJob, DELIVERY_QUEUE, onClient, type DeliveryJob } from '../queue/boss.js';
import { alertRelayDisabled } from './alerts.js';
import { buildRequest, type ClaimedRow } from './build-request.js';
import type { HttpSender, SendOutcome } from './http-sender.js';
import { recordAttempt, type AttemptResult, type HealthPolicy } from './relay-health.js';
import type { RelayRates } from './relay-rates.js';
import { disableRelay } from './relay-state.js';
import { DEFAULT_SCHEDULE_SECONDS, nextAttempt, parseRetryAfter } from './retry-policy.js';

export interface DispatchDeps {
  pool: Pool;
  boss: PgBoss;
  keyring: Keyring;
  sender: HttpSender;
  log: Logger;
  userAgent: string;
  health: HealthPolicy;
  rates: RelayRates;
  alertRelayId?: string;
  random?: () => number;
}

/** Thrown when shutdown aborted a delivery: the job goes back to pg-boss, nothing is recorded. */
export class ReleasedError extends Error {
  constructor(deliveryId: string) {
    super(`delivery ${deliveryId} released at shutdown`);
    this.name = 'ReleasedError';
  }
}

/**
 * Marks the delivery DELIVERING (HELD when its relay is disabled), announces it, and loads
 * everything the request needs, in one statement. The attempt number guards idempotency: a job
 * whose attempt is already recorded (a worker died after our commit but before pg-boss
 * completed the job) claims nothing. DELIVERING is claimable again: that is how a delivery whose
 * worker was killed mid-request is recovered when pg-boss hands its job out again.
 */
const CLAIM = `
  with claimed as (
    update delivery d set status = case when r.enabled or $3::boolean then 'DELIVERING' else 'HELD' end, updated_at = now()
    from relay r
    where d.id = $1 and r.id = d.relay_id and d.attempt_count = $2 - 1 and d.status in ('PENDING', 'RETRYING', 'DELIVERING')
    returning d.id, d.status, d.created_at, d.event_id, d.relay_id, d.subscription_id
  )
  select c.id, c.status, c.created_at, c.relay_id, e.id as event_id, e.type, e.body, e.content_type, e.headers as event_headers,
         src.slug as source_slug, r.url, r.method, r.headers_sealed, r.signing_secret_sealed, r.previous_signing_secret_sealed,
         r.previous_signing_secret_expires_at, r.timeout_ms, r.retry_schedule, r.max_age_seconds, r.max_concurrency,
         r.rate_limit_per_second, r.proxy_url, s.forward_headers,
         pg_notify('${DELIVERY_CHANNEL}', c.id || ':' || c.status || ':' || ($2::int - 1)) as notified
  from claimed c
  join event e on e.id = c.event_id
  join relay r on r.id = c.relay_id
  left join source src on src.id = e.source_id
  left join event_subscription s on s.id = c.subscription_id`;

export interface DispatchOptions {
  /** A test send (`sendTestEvent`): one try, no retries, no effect on the relay's health. */
  oneShot?: boolean;
  /** Send even when the relay is disabled (a test send). */
  ignoreDisabled?: boolean;
}

/** Runs one attempt of one delivery and records its outcome; delivery failures never throw. */
export async function dispatch(deps: DispatchDeps, job: DeliveryJob, signal: AbortSignal = new AbortController().signal, options: DispatchOptions = {}): Promise<void> {
  const claimed = await deps.pool.query<ClaimedRow & { status: DeliveryStatus }>(CLAIM, [job.deliveryId, job.attempt, options.ignoreDisabled ?? false]);
  const row = claimed.rows[0];
  if (!row || row.status === 'HELD') return;

  const startedAt = new Date();
  let outcome: SendOutcome;
  let logged: Record<string, string> = {};
  try {
    await deps.rates.wait(row.relay_id, row.rate_limit_per_second, signal);
    const request = buildRequest(row, deps.keyring, deps.userAgent, job.deliveryId, new Date());
    logged = request.logged;
    outcome = await deps.sender.send({ url: row.url, method: row.method, headers: request.headers, body: row.body, timeoutMs: row.timeout_ms, proxyUrl: row.proxy_url, signal });
  } catch (error) {
    if (signal.aborted) {
      await release(deps, job);
      throw new ReleasedError(job.deliveryId);
    }
    // A secret sealed under a key this process does not hold: the relay reports it when used.
    outcome = { ok: false, errorClass: 'CONNECTION_RESET', message: (error as Error).message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: 0 };
  }
  if (signal.aborted && !outcome.ok && outcome.errorClass === 'TIMEOUT') {
    await release(deps, job);
    throw new ReleasedError(job.deliveryId);
  }

  const attempt = { id: newId(), startedAt, outcome, logged };
  if (outcome.ok) {
    await transition(deps, row, job, { status: 'SUCCEEDED', attemptCount: job.attempt }, attempt, options.oneShot ? 'test' : 'succeeded');
    return;
  }
  if (outcome.status === 410 && !options.oneShot) {
    // The receiver says the endpoint is gone for good: stop sending until someone re-enables it.
    await transition(deps, row, job, { status: 'HELD', attemptCount: job.attempt }, attempt, 'gone');
    return;
  }
  const nowMs = Date.now();
  const hinted = outcome.status === 429 || outcome.status === 503 ? parseRetryAfter(outcome.retryAfter, nowMs) : null;
  const decision = nextAttempt({
    attempt: job.attempt,
    schedule: options.oneShot ? [] : (row.retry_schedule ?? DEFAULT_SCHEDULE_SECONDS),
    retryAfterMs: hinted,
    createdAtMs: new Date(row.created_at).getTime(),
    maxAgeSeconds: row.max_age_seconds,
    nowMs,
    random: (deps.random ?? Math.random)(),
  });
  if (decision.retry) {
    await transition(deps, row, job, { status: 'RETRYING', attemptCount: job.attempt, nextAttemptAt: new Date(nowMs + decision.delayMs) }, attempt, 'failed');
  } else {
    await transition(deps, row, job, { status: 'DEAD', attemptCount: job.attempt }, attempt, options.oneShot ? 'test' : 'dead');
  }
}

/** Back to where it was before the claim, so the next claim of its job starts it afresh. */
async function release(deps: DispatchDeps, job: DeliveryJob): Promise<void> {
  await inTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus }>(
      `update delivery set status = case when attempt_count = 0 then 'PENDING' else 'RETRYING' end, updated_at = now()
       where id = $1 and status = 'DELIVERING' and attempt_count = $2 - 1 returning status`,
      [job.deliveryId, job.attempt],
    );
    if (rows[0]) await notifyDeliveryChanges(client, [{ id: job.deliveryId, status: rows[0].status, attemptCount: job.attempt - 1 }]);
  });
}

interface Transition {
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt?: Date;
}

interface RecordedAttempt {
  id: string;
  startedAt: Date;
  outcome: SendOutcome;
  logged: Record<string, string>;
}

/** The attempt row, the delivery's new state, the relay's health and the next job commit together. */
function transition(deps: DispatchDeps, row: ClaimedRow, job: DeliveryJob, next: Transition, attempt: RecordedAttempt, result: AttemptResult | 'test'): Promise<void> {
  return inTransaction(deps.pool, async (client) => {
    const updated = await client.query(
      `update delivery set status = $2, attempt_count = $3, next_attempt_at = $4, last_attempt_at = $5, updated_at = now()
       where id = $1 and attempt_count = $6 - 1`,
      [job.deliveryId, next.status, next.attemptCount, next.nextAttemptAt ?? null, attempt.startedAt, job.attempt],
    );
    if (updated.rowCount === 0) return;
    const o = attempt.outcome;
    await client.query(
      `insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [attempt.id, job.deliveryId, job.attempt, attempt.startedAt, o.durationMs, attempt.logged, o.status, stripNul(o.bodyExcerpt), o.ok ? null : o.errorClass, o.ok ? null : o.message.slice(0, 1000)],
    );
    if (next.status === 'RETRYING' && next.nextAttemptAt) {
      await deps.boss.insert(DELIVERY_QUEUE, [deliveryJob(job.deliveryId, job.attempt + 1, row.relay_id, row.max_concurrency, next.nextAttemptAt)], { db: onClient(client) });
    }
    await notifyDeliveryChanges(client, [{ id: job.deliveryId, status: next.status, attemptCount: next.attemptCount }]);
    if (result === 'test') return;
    const disableReason = await recordAttempt(client, row.relay_id, result, deps.health);
    if (disableReason && (await disableRelay(client, row.relay_id, disableReason))) {
      deps.log.warn({ relayId: row.relay_id, reason: disableReason }, 'relay disabled');
      await alertRelayDisabled(client, deps.boss, deps.alertRelayId, row.relay_id, disableReason);
    }
  });
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

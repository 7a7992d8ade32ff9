import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { unseal } from '../crypto/seal.js';
import type { AttemptErrorClass } from '../db/entities/attempt.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { DELIVERY_CHANNEL, notifyDeliveryChanges } from '../live/delivery-changes.js';
import type { Logger } from '../log.js';
import { onClient, RETRY_QUEUE, type DeliveryJob } from '../queue/boss.js';
import type { HttpSender, SendOutcome } from './http-sender.js';
import { DEFAULT_SCHEDULE_SECONDS, nextAttempt, parseRetryAfter } from './retry-policy.js';
import { signStandardWebhook } from './sign.js';

export interface DispatchDeps {
  pool: Pool;
  boss: PgBoss;
  keyring: Keyring;
  sender: HttpSender;
  log: Logger;
  userAgent: string;
  random?: () => number;
}

interface ClaimedRow {
  id: string;
  // MikroORM's pool parses timestamptz to strings.
  created_at: string | Date;
  event_id: string;
  type: string;
  body: Buffer;
  content_type: string | null;
  event_headers: Record<string, string>;
  source_slug: string | null;
  url: string;
  method: string;
  headers_sealed: string | null;
  signing_secret_sealed: string;
  timeout_ms: number;
  retry_schedule: number[] | null;
  max_age_seconds: number | null;
  relay_enabled: boolean;
  forward_headers: string[] | null;
}

/**
 * Marks the delivery DELIVERING and loads everything the request needs, in one statement.
 * The attempt number guards idempotency: a job whose attempt is already recorded (a worker
 * died after our commit but before pg-boss completed the job) claims nothing.
 */
const CLAIM = `
  with claimed as (
    update delivery set status = 'DELIVERING', updated_at = now()
    where id = $1 and attempt_count = $2 - 1 and status in ('PENDING', 'RETRYING', 'DELIVERING')
    returning id, created_at, event_id, relay_id, subscription_id
  )
  select c.id, c.created_at, e.id as event_id, e.type, e.body, e.content_type, e.headers as event_headers,
         src.slug as source_slug, r.url, r.method, r.headers_sealed, r.signing_secret_sealed, r.timeout_ms,
         r.retry_schedule, r.max_age_seconds, r.enabled as relay_enabled, s.forward_headers,
         pg_notify('${DELIVERY_CHANNEL}', c.id || ':DELIVERING:' || ($2::int - 1)) as notified
  from claimed c
  join event e on e.id = c.event_id
  join relay r on r.id = c.relay_id
  left join source src on src.id = e.source_id
  left join event_subscription s on s.id = c.subscription_id`;

const REDACTED = '[redacted]';

function buildHeaders(row: ClaimedRow, deps: DispatchDeps, deliveryId: string): { headers: Record<string, string>; logged: Record<string, string> } {
  const headers: Record<string, string> = {};
  const logged: Record<string, string> = {};
  for (const name of row.forward_headers ?? []) {
    const value = row.event_headers[name.toLowerCase()];
    if (value !== undefined) headers[name.toLowerCase()] = logged[name.toLowerCase()] = value;
  }
  const extra = row.headers_sealed ? (JSON.parse(unseal(deps.keyring, row.headers_sealed)) as { name: string; value: string }[]) : [];
  for (const { name, value } of extra) {
    headers[name.toLowerCase()] = value;
    logged[name.toLowerCase()] = REDACTED;
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const fixed: Record<string, string> = {
    'content-type': row.content_type ?? 'application/json',
    'user-agent': deps.userAgent,
    'webhook-id': row.event_id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook([unseal(deps.keyring, row.signing_secret_sealed)], row.event_id, timestamp, row.body),
    'hookyard-event-type': row.type,
    'hookyard-delivery-id': deliveryId,
  };
  if (row.source_slug) fixed['hookyard-source'] = row.source_slug;
  Object.assign(headers, fixed);
  Object.assign(logged, fixed);
  return { headers, logged };
}

/** Runs one attempt of one delivery and records its outcome; delivery failures never throw. */
export async function dispatch(deps: DispatchDeps, job: DeliveryJob): Promise<void> {
  const claimed = await deps.pool.query<ClaimedRow>(CLAIM, [job.deliveryId, job.attempt]);
  const row = claimed.rows[0];
  if (!row) return;
  if (!row.relay_enabled) {
    await transition(deps, job, { status: 'HELD', attemptCount: job.attempt - 1 }, null);
    return;
  }

  const startedAt = new Date();
  let outcome: SendOutcome;
  let logged: Record<string, string> = {};
  try {
    const built = buildHeaders(row, deps, job.deliveryId);
    logged = built.logged;
    outcome = await deps.sender.send({ url: row.url, method: row.method, headers: built.headers, body: row.body, timeoutMs: row.timeout_ms });
  } catch (error) {
    // A secret sealed under a key we do not hold: the relay "reports an error when used".
    outcome = { ok: false, errorClass: 'CONNECTION_RESET' as AttemptErrorClass, message: (error as Error).message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: 0 };
  }

  const attempt = { id: newId(), startedAt, outcome, logged };
  if (outcome.ok) {
    await transition(deps, job, { status: 'SUCCEEDED', attemptCount: job.attempt }, attempt);
    return;
  }
  const nowMs = Date.now();
  const hinted = outcome.status === 429 || outcome.status === 503 ? parseRetryAfter(outcome.retryAfter, nowMs) : null;
  const decision = nextAttempt({
    attempt: job.attempt,
    schedule: row.retry_schedule ?? DEFAULT_SCHEDULE_SECONDS,
    retryAfterMs: hinted,
    createdAtMs: new Date(row.created_at).getTime(),
    maxAgeSeconds: row.max_age_seconds,
    nowMs,
    random: (deps.random ?? Math.random)(),
  });
  if (decision.retry) {
    await transition(deps, job, { status: 'RETRYING', attemptCount: job.attempt, nextAttemptAt: new Date(nowMs + decision.delayMs) }, attempt);
  } else {
    await transition(deps, job, { status: 'DEAD', attemptCount: job.attempt }, attempt);
  }
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

/** The attempt row, the delivery's new state and the next job commit together. */
function transition(deps: DispatchDeps, job: DeliveryJob, next: Transition, attempt: RecordedAttempt | null): Promise<void> {
  return inTransaction(deps.pool, async (client) => {
    const updated = await client.query(
      `update delivery set status = $2, attempt_count = $3, next_attempt_at = $4,
              last_attempt_at = coalesce($5, last_attempt_at), updated_at = now()
       where id = $1 and attempt_count = $6 - 1`,
      [job.deliveryId, next.status, next.attemptCount, next.nextAttemptAt ?? null, attempt?.startedAt ?? null, job.attempt],
    );
    if (updated.rowCount === 0) return;
    if (attempt) {
      const o = attempt.outcome;
      await client.query(
        `insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [attempt.id, job.deliveryId, job.attempt, attempt.startedAt, o.durationMs, attempt.logged, o.status, stripNul(o.bodyExcerpt), o.ok ? null : o.errorClass, o.ok ? null : o.message.slice(0, 1000)],
      );
    }
    if (next.status === 'RETRYING' && next.nextAttemptAt) {
      await deps.boss.send(RETRY_QUEUE, { deliveryId: job.deliveryId, attempt: job.attempt + 1 } satisfies DeliveryJob, { startAfter: next.nextAttemptAt, db: onClient(client) });
    }
    await notifyDeliveryChanges(client, [{ id: job.deliveryId, status: next.status, attemptCount: next.attemptCount }]);
  });
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

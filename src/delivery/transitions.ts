import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import { attemptDuration, deliveryAttempts } from '../metrics.js';
import { completeDeliveryJobs, type DeliveryJob, type JobAck } from '../queue/boss.js';
import type { ClaimedRow } from './build-request.js';
import { queueDeliveries } from './enqueue.js';
import type { SendOutcome } from './http-sender.js';
import { recordAttempt, recordSuccesses, type AttemptResult, type HealthPolicy } from './relay-health.js';
import { disableRelayAndAlert } from './relay-state.js';

/** What recording outcomes needs: the database, and the relay health rule that may disable a relay. */
export interface OutcomeDeps {
  pool: Pool;
  boss: PgBoss;
  log: Logger;
  health: HealthPolicy;
  alertRelayId?: string;
}

/** The delivery's state after an attempt (a move `outcome` of status-machine.ts). */
export interface NextState {
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt?: Date;
}

export interface RecordedAttempt {
  id: string;
  startedAt: Date;
  outcome: SendOutcome;
  logged: Record<string, string>;
}

export interface TransitionItem {
  row: ClaimedRow;
  job: DeliveryJob;
  /** The pg-boss job that performed the attempt: completed in the same transaction, so it finishes exactly when its attempt is recorded. */
  ack?: JobAck;
  next: NextState;
  attempt: RecordedAttempt;
  /** `interrupted` and `test` leave the relay's health alone: the receiver did not fail. */
  result: AttemptResult | 'test' | 'interrupted';
}

/**
 * Records one finished attempt; resolves when its commit does. The worker's lanes record a
 * batch of them in the transaction that also fetches their next jobs (lane-pump.ts), with one
 * NOTIFY for all of them: a commit per attempt would queue every worker behind the NOTIFY lock.
 */
export type RecordOutcome = (item: TransitionItem) => Promise<void>;

/** Records outcomes in a transaction of their own (a test send: nothing to share it with). */
export function recordOutcomesNow(deps: OutcomeDeps, items: TransitionItem[]): Promise<void> {
  return inTransaction(deps.pool, (client) => recordOutcomes(deps, client, items));
}

const UPDATE_DELIVERIES = `
  update delivery d set status = u.status, attempt_count = u.attempt_count, next_attempt_at = u.next_attempt_at,
         last_attempt_at = u.started_at, claimed_by = null, updated_at = now()
  from unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::int[])
    as u(id, status, attempt_count, next_attempt_at, started_at, attempt)
  where d.id = u.id and d.attempt_count = u.attempt - 1
  returning d.id`;

const INSERT_ATTEMPTS = `
  insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
  select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::timestamptz[], $5::int[], $6::jsonb[], $7::int[], $8::text[], $9::text[], $10::text[])`;

/**
 * A batch of outcomes in a fixed number of statements: their pg-boss jobs completed at once
 * (a job's slot, and its relay's, frees with this commit), all deliveries updated at once (the
 * attempt-number guard skips any already recorded), their attempts inserted at once, the
 * retries' jobs in one insert, the healthy relays' records in one update; only failures touch
 * their relay one by one (they may disable it). One NOTIFY for all. The statements of every
 * batch are prepared (named), planned once per connection.
 */
export async function recordOutcomes(deps: OutcomeDeps, client: PoolClient, items: TransitionItem[]): Promise<void> {
  // Every job, even one whose attempt was already recorded: its work is done either way.
  await completeDeliveryJobs(deps.boss, client, items.flatMap((i) => (i.ack ? [i.ack] : [])));
  const updated = await client.query<{ id: string }>({ name: 'hookyard-outcome-deliveries', text: UPDATE_DELIVERIES, values: [
    items.map((i) => i.job.deliveryId), items.map((i) => i.next.status), items.map((i) => i.next.attemptCount),
    items.map((i) => i.next.nextAttemptAt ?? null), items.map((i) => i.attempt.startedAt), items.map((i) => i.job.attempt),
  ] });
  const done = new Set(updated.rows.map((r) => r.id));
  const applied = items.filter((i) => done.has(i.job.deliveryId));
  if (applied.length === 0) return;
  await client.query({ name: 'hookyard-outcome-attempts', text: INSERT_ATTEMPTS, values: [
    applied.map((i) => i.attempt.id), applied.map((i) => i.job.deliveryId), applied.map((i) => i.job.attempt), applied.map((i) => i.attempt.startedAt),
    applied.map((i) => i.attempt.outcome.durationMs), applied.map((i) => JSON.stringify(i.attempt.logged)), applied.map((i) => i.attempt.outcome.status),
    applied.map((i) => stripNul(i.attempt.outcome.bodyExcerpt)), applied.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.errorClass)),
    applied.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.message.slice(0, 1000))),
  ] });
  await queueDeliveries(client, deps.boss, applied.map((i) => ({
    id: i.job.deliveryId, status: i.next.status, attemptCount: i.next.attemptCount,
    // A retry's job, in the retry lane at its time.
    job: i.next.status === 'RETRYING' && i.next.nextAttemptAt ? { relayId: i.row.relay_id, maxConcurrency: i.row.max_concurrency, retryAt: i.next.nextAttemptAt } : undefined,
  })));
  for (const i of applied) {
    deliveryAttempts.inc({ status: i.next.status, error_class: i.attempt.outcome.ok ? '' : i.attempt.outcome.errorClass });
    attemptDuration.observe(i.attempt.outcome.durationMs / 1000);
  }

  // Relay rows in one order (successes, then failures, each by id): the two lanes record at
  // once, and rows locked in different orders would deadlock them.
  const healthy = [...new Set(applied.filter((i) => i.result === 'succeeded').map((i) => i.row.relay_id))].sort();
  if (healthy.length > 0) await recordSuccesses(client, healthy);
  for (const item of applied.toSorted((a, b) => (a.row.relay_id < b.row.relay_id ? -1 : a.row.relay_id > b.row.relay_id ? 1 : 0))) {
    if (item.result === 'test' || item.result === 'succeeded' || item.result === 'interrupted') continue;
    const disableReason = await recordAttempt(client, item.row.relay_id, item.result, deps.health);
    if (disableReason && (await disableRelayAndAlert(client, deps.boss, deps.alertRelayId, item.row.relay_id, disableReason))) {
      deps.log.warn({ relayId: item.row.relay_id, reason: disableReason }, 'relay disabled');
    }
  }
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

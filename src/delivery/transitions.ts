import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import { attemptDuration, deliveryAttempts } from '../metrics.js';
import { channels, deliveryEntrySql } from '../db/notify/channels.js';
import { notifySql } from '../db/notify/send.js';
import { DELIVERY_QUEUE, type DeliveryJob, type JobAck } from '../queue/boss.js';
import { queueTable } from '../queue/queue-table.js';
import { completeDeliveryJobsSql, completeDeliveryJobsValues } from '../queue/complete-jobs.js';
import type { ClaimedRow } from './build-request.js';
import { queueJobs } from './enqueue.js';
import type { SendOutcome } from './http-sender.js';
import { recordAttempt, recordRecoveriesSql, recordSuccessesSql, type AttemptResult, type FailingRelay, type HealthPolicy } from './relay-health.js';
import { reportOutcomes, type RecoveredRelay } from './operational-events.js';
import { disableRelayAndAlert } from './relay-state.js';
import { settleLines } from './ordering/lines.js';

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
  /** The pg-boss job that performed the attempt: completed (deleted) in the same transaction, so it finishes exactly when its attempt is recorded. */
  ack?: JobAck;
  next: NextState;
  attempt: RecordedAttempt;
  /** `interrupted` and `test` leave the relay's health alone: the receiver did not fail. */
  result: AttemptResult | 'test' | 'interrupted';
  /** Sent in a batch (delivery/batching/): its id, recorded so that a retry sends the same batch. */
  batchId?: string | null;
}

/**
 * Records one finished attempt; resolves when its commit does. The worker's lanes record a
 * batch of them in the transaction that also fetches their next jobs (lane-pump.ts), with one
 * NOTIFY for all of them: a commit per attempt would queue every worker behind the NOTIFY lock.
 */
export type RecordOutcome = (item: TransitionItem) => Promise<void>;

/** Records outcomes in a transaction of their own (a test send: nothing to share it with). */
export async function recordOutcomesNow(deps: OutcomeDeps, items: TransitionItem[]): Promise<void> {
  const { table } = await queueTable(deps.boss, DELIVERY_QUEUE);
  return inTransaction(deps.pool, (client) => recordOutcomes(deps, client, items, table));
}

/**
 * A batch's outcomes in one statement: their pg-boss jobs completed, by deletion (every job, even one whose
 * attempt was already recorded: its work is done either way; a job's slot, and its relay's,
 * frees with this commit), the deliveries' new states (the attempt-number guard skips any
 * already recorded), the attempts of those it updated, the successes' relays reset
 * (`recordSuccessesSql`; those reported failing, `recordRecoveriesSql`), and one NOTIFY of every
 * change. Returns the deliveries it updated, each with the recovered relays (null mostly).
 */
const recordOutcomesSql = (jobTable: string) => `
  with completed as (${completeDeliveryJobsSql(jobTable, 17)}),
  u as (
    select * from unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::uuid[], $8::boolean[], $16::uuid[])
      as u(id, status, attempt_count, next_attempt_at, started_at, attempt, relay_id, succeeded, batch_id)
  ),
  updated as (
    update delivery d set status = u.status, attempt_count = u.attempt_count, next_attempt_at = u.next_attempt_at,
           last_attempt_at = u.started_at, claimed_by = null, updated_at = now(), batch_id = coalesce(u.batch_id, d.batch_id)
    from u
    where d.id = u.id and d.attempt_count = u.attempt - 1
    returning d.id, d.status, d.attempt_count, u.relay_id, u.succeeded
  ),
  recorded as (
    insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
    select a.* from unnest($9::uuid[], $1::uuid[], $6::int[], $5::timestamptz[], $10::int[], $11::jsonb[], $12::int[], $13::text[], $14::text[], $15::text[])
      as a(id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
    where a.delivery_id in (select id from updated)
  ),
  healthy as (${recordSuccessesSql('select relay_id from updated where succeeded')}),
  recovered as (${recordRecoveriesSql('select relay_id from updated where succeeded')}),
  notified as (
    select ${notifySql(channels.delivery, `array_agg(${deliveryEntrySql('id', 'status', 'attempt_count')})`)} as sent
    from updated having count(*) > 0
  )
  select updated.id, (select jsonb_agg(recovered) from recovered) as recovered from updated cross join notified`;

/** The outcome statement's text by pg-boss job table (one in practice), built once. */
const recordStatements = new Map<string, { name: string; text: string }>();

/**
 * A batch of outcomes in a fixed number of statements: one for their jobs, the deliveries,
 * their attempts, the healthy relays and the NOTIFY (`recordOutcomesSql`), the retries' jobs
 * in one insert; only failures touch their relay one by one (they may disable it). The
 * statements of every batch are prepared (named), planned once per connection. `jobTable` is
 * the delivery queue's pg-boss table (queue/queue-table.ts).
 */
export async function recordOutcomes(deps: OutcomeDeps, client: PoolClient, items: TransitionItem[], jobTable: string): Promise<void> {
  let statement = recordStatements.get(jobTable);
  if (!statement) recordStatements.set(jobTable, (statement = { name: `hookyard-outcomes-${recordStatements.size}`, text: recordOutcomesSql(jobTable) }));
  const updated = await client.query<{ id: string; recovered: RecoveredRelay[] | null }>({ name: statement.name, text: statement.text, values: [
    items.map((i) => i.job.deliveryId), items.map((i) => i.next.status), items.map((i) => i.next.attemptCount),
    items.map((i) => i.next.nextAttemptAt ?? null), items.map((i) => i.attempt.startedAt), items.map((i) => i.job.attempt),
    items.map((i) => i.row.relay_id), items.map((i) => i.result === 'succeeded'),
    items.map((i) => i.attempt.id), items.map((i) => i.attempt.outcome.durationMs), items.map((i) => JSON.stringify(i.attempt.logged)),
    items.map((i) => i.attempt.outcome.status), items.map((i) => stripNul(i.attempt.outcome.bodyExcerpt)),
    items.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.errorClass)),
    items.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.message.slice(0, 1000))),
    items.map((i) => i.batchId ?? null),
    ...completeDeliveryJobsValues(items.flatMap((i) => (i.ack ? [i.ack] : []))),
  ] });
  if (updated.rows.length === 0) return;
  const done = new Set(updated.rows.map((r) => r.id));
  const applied = items.filter((i) => done.has(i.job.deliveryId));
  // A retry's job, in the retry lane at its time (announced above, with the other changes): one
  // per delivery, and one per failed batch, which sends all of it again.
  const batchesQueued = new Set<string>();
  await queueJobs(client, deps.boss, applied.flatMap((i) => {
    if (i.next.status !== 'RETRYING' || !i.next.nextAttemptAt) return [];
    if (i.batchId) {
      if (batchesQueued.has(i.batchId)) return [];
      batchesQueued.add(i.batchId);
    }
    return [{ id: i.job.deliveryId, status: i.next.status, attemptCount: i.next.attemptCount, job: { relayId: i.row.relay_id, maxConcurrency: i.row.max_concurrency, retryAt: i.next.nextAttemptAt, ...(i.batchId ? { batchId: i.batchId } : {}) } }];
  }));
  for (const i of applied) {
    deliveryAttempts.inc({ status: i.next.status, error_class: i.attempt.outcome.ok ? '' : i.attempt.outcome.errorClass });
    attemptDuration.observe(i.attempt.outcome.durationMs / 1000);
  }

  // Failures lock their relay rows in id order: the two lanes record at once, and rows locked
  // in different orders would deadlock them.
  const failing: FailingRelay[] = [];
  for (const item of applied.toSorted((a, b) => (a.row.relay_id < b.row.relay_id ? -1 : a.row.relay_id > b.row.relay_id ? 1 : 0))) {
    if (item.result === 'test' || item.result === 'succeeded' || item.result === 'interrupted') continue;
    const { disableReason, failing: warning } = await recordAttempt(client, item.row.relay_id, item.result, deps.health);
    if (warning) failing.push(warning);
    if (disableReason && (await disableRelayAndAlert(client, deps.boss, deps.alertRelayId, item.row.relay_id, disableReason))) {
      deps.log.warn({ relayId: item.row.relay_id, reason: disableReason, deliveryId: item.job.deliveryId, correlationId: item.row.correlation_id ?? undefined }, 'relay disabled');
    }
  }
  // delivery.dead, relay.failing, relay.recovered: one insert for the batch, in its transaction.
  await reportOutcomes(client, deps.boss, deps.health, { applied, failing, recovered: updated.rows[0]!.recovered ?? [] });

  // A head that left its key's line hands it to the next delivery, queued in this transaction
  // (so the lane's fetch that follows may start it at once). Last: lines lock after every row.
  await settleLines(client, deps.boss, applied.flatMap((i) => (i.row.ordering_key && (i.next.status === 'SUCCEEDED' || i.next.status === 'DEAD') ? [{ relayId: i.row.relay_id, key: i.row.ordering_key }] : [])));
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

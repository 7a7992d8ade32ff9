import type { PoolClient } from 'pg';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { attemptDuration, deliveryAttempts } from '../metrics.js';
import { notifyDeliveryChanges } from '../db/notify/send.js';
import { deliveryJob, DELIVERY_QUEUE, onClient, type DeliveryJob } from '../queue/boss.js';
import { alertRelayDisabled } from './alerts.js';
import type { ClaimedRow } from './build-request.js';
import type { DispatchDeps } from './dispatch.js';
import type { SendOutcome } from './http-sender.js';
import { recordAttempt, recordSuccesses, type AttemptResult } from './relay-health.js';
import { disableRelay } from './relay-state.js';

export interface Transition {
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
  next: Transition;
  attempt: RecordedAttempt;
  /** `interrupted` and `test` leave the relay's health alone: the receiver did not fail. */
  result: AttemptResult | 'test' | 'interrupted';
}

interface Pending {
  item: TransitionItem;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 100;

/**
 * Records finished attempts: the attempt row, the delivery's new state, the next job, the
 * relay's health. Attempts that finish while a commit is under way wait for the next one and
 * share it (group commit), with one NOTIFY for all of them: a commit per attempt would queue
 * every worker behind the NOTIFY lock. Each attempt's promise settles when its commit does.
 */
export class TransitionBatcher {
  private readonly queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly deps: DispatchDeps) {}

  record(item: TransitionItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.commit(batch.map((p) => p.item));
        for (const p of batch) p.resolve();
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        // One bad item must not fail its neighbours: each on its own.
        for (const p of batch) await this.commit([p.item]).then(p.resolve, p.reject);
      }
    }
    this.flushing = false;
  }

  private commit(items: TransitionItem[]): Promise<void> {
    return inTransaction(this.deps.pool, (client) => applyAll(this.deps, client, items));
  }
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
 * A batch of outcomes in a fixed number of statements: all deliveries updated at once (the
 * attempt-number guard skips any already recorded), their attempts inserted at once, the
 * retries' jobs in one insert, the healthy relays' records in one update; only failures touch
 * their relay one by one (they may disable it). One NOTIFY for all.
 */
async function applyAll(deps: DispatchDeps, client: PoolClient, items: TransitionItem[]): Promise<void> {
  const updated = await client.query<{ id: string }>(UPDATE_DELIVERIES, [
    items.map((i) => i.job.deliveryId), items.map((i) => i.next.status), items.map((i) => i.next.attemptCount),
    items.map((i) => i.next.nextAttemptAt ?? null), items.map((i) => i.attempt.startedAt), items.map((i) => i.job.attempt),
  ]);
  const done = new Set(updated.rows.map((r) => r.id));
  const applied = items.filter((i) => done.has(i.job.deliveryId));
  if (applied.length === 0) return;
  await client.query(INSERT_ATTEMPTS, [
    applied.map((i) => i.attempt.id), applied.map((i) => i.job.deliveryId), applied.map((i) => i.job.attempt), applied.map((i) => i.attempt.startedAt),
    applied.map((i) => i.attempt.outcome.durationMs), applied.map((i) => JSON.stringify(i.attempt.logged)), applied.map((i) => i.attempt.outcome.status),
    applied.map((i) => stripNul(i.attempt.outcome.bodyExcerpt)), applied.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.errorClass)),
    applied.map((i) => (i.attempt.outcome.ok ? null : i.attempt.outcome.message.slice(0, 1000))),
  ]);
  const retries = applied.filter((i) => i.next.status === 'RETRYING' && i.next.nextAttemptAt);
  if (retries.length > 0) {
    await deps.boss.insert(DELIVERY_QUEUE, retries.map((i) => deliveryJob(i.job.deliveryId, i.job.attempt + 1, i.row.relay_id, i.row.max_concurrency, i.next.nextAttemptAt)), { db: onClient(client) });
  }
  await notifyDeliveryChanges(client, applied.map((i) => ({ id: i.job.deliveryId, status: i.next.status, attemptCount: i.next.attemptCount })));
  for (const i of applied) {
    deliveryAttempts.inc({ status: i.next.status, error_class: i.attempt.outcome.ok ? '' : i.attempt.outcome.errorClass });
    attemptDuration.observe(i.attempt.outcome.durationMs / 1000);
  }

  const healthy = [...new Set(applied.filter((i) => i.result === 'succeeded').map((i) => i.row.relay_id))];
  if (healthy.length > 0) await recordSuccesses(client, healthy);
  for (const item of applied) {
    if (item.result === 'test' || item.result === 'succeeded' || item.result === 'interrupted') continue;
    const disableReason = await recordAttempt(client, item.row.relay_id, item.result, deps.health);
    if (disableReason && (await disableRelay(client, item.row.relay_id, disableReason))) {
      deps.log.warn({ relayId: item.row.relay_id, reason: disableReason }, 'relay disabled');
      await alertRelayDisabled(client, deps.boss, deps.alertRelayId, item.row.relay_id, disableReason);
    }
  }
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

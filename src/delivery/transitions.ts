import type { PoolClient } from 'pg';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { notifyDeliveryChanges, type DeliveryChange } from '../live/delivery-changes.js';
import { deliveryJob, DELIVERY_QUEUE, onClient, type DeliveryJob } from '../queue/boss.js';
import { alertRelayDisabled } from './alerts.js';
import type { ClaimedRow } from './build-request.js';
import type { DispatchDeps } from './dispatch.js';
import type { SendOutcome } from './http-sender.js';
import { recordAttempt, type AttemptResult } from './relay-health.js';
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
  result: AttemptResult | 'test';
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
    return inTransaction(this.deps.pool, async (client) => {
      const changes: DeliveryChange[] = [];
      for (const item of items) {
        if (await apply(this.deps, client, item)) changes.push({ id: item.job.deliveryId, status: item.next.status, attemptCount: item.next.attemptCount });
      }
      await notifyDeliveryChanges(client, changes);
    });
  }
}

async function apply(deps: DispatchDeps, client: PoolClient, { row, job, next, attempt, result }: TransitionItem): Promise<boolean> {
  const updated = await client.query(
    `update delivery set status = $2, attempt_count = $3, next_attempt_at = $4, last_attempt_at = $5, updated_at = now()
     where id = $1 and attempt_count = $6 - 1`,
    [job.deliveryId, next.status, next.attemptCount, next.nextAttemptAt ?? null, attempt.startedAt, job.attempt],
  );
  if (updated.rowCount === 0) return false;
  const o = attempt.outcome;
  await client.query(
    `insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, response_body_excerpt, error_class, error_message)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [attempt.id, job.deliveryId, job.attempt, attempt.startedAt, o.durationMs, attempt.logged, o.status, stripNul(o.bodyExcerpt), o.ok ? null : o.errorClass, o.ok ? null : o.message.slice(0, 1000)],
  );
  if (next.status === 'RETRYING' && next.nextAttemptAt) {
    await deps.boss.insert(DELIVERY_QUEUE, [deliveryJob(job.deliveryId, job.attempt + 1, row.relay_id, row.max_concurrency, next.nextAttemptAt)], { db: onClient(client) });
  }
  if (result === 'test') return true;
  const disableReason = await recordAttempt(client, row.relay_id, result, deps.health);
  if (disableReason && (await disableRelay(client, row.relay_id, disableReason))) {
    deps.log.warn({ relayId: row.relay_id, reason: disableReason }, 'relay disabled');
    await alertRelayDisabled(client, deps.boss, deps.alertRelayId, row.relay_id, disableReason);
  }
  return true;
}

/** PostgreSQL text cannot hold NUL; a binary response body would otherwise fail the insert. */
function stripNul(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '');
}

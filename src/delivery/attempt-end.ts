import type { Pool } from 'pg';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import type { DeliveryJob } from '../queue/boss.js';
import type { ClaimedRow } from './build-request.js';
import { announceDeliveries } from './enqueue.js';
import type { SendOutcome } from './http-sender.js';
import { DEFAULT_SCHEDULE_SECONDS, nextAttempt, parseRetryAfter } from './retry-policy.js';
import { WAITING_STATUS_SQL } from './status-machine.js';
import type { TransitionItem } from './transitions.js';

/**
 * How an attempt ends, whichever way it was sent (one delivery, or a batch of them,
 * batching/send-batch.ts): released unsent at shutdown, cut short after it left, or an
 * outcome that decides the delivery's next state.
 */

/** Thrown when shutdown aborted a delivery before its request left: the job goes back to pg-boss, nothing is recorded. */
export class ReleasedError extends Error {
  constructor(deliveryId: string) {
    super(`delivery ${deliveryId} released at shutdown`);
    this.name = 'ReleasedError';
  }
}

export interface DispatchOptions {
  /** A test send (`sendTestEvent`): one try, no retries, no effect on the relay's health. */
  oneShot?: boolean;
  /** Send even when the relay is disabled (a test send). */
  ignoreDisabled?: boolean;
}

export const SHUTDOWN_MESSAGE = 'the worker shut down while this request was in flight; the receiver may have it';

/**
 * What follows an attempt's outcome: the delivery's next state, and how the attempt counts for
 * its relay's health. Any 2xx succeeds; an HTTP 410 Gone holds it (the receiver says the
 * endpoint is gone); a permanent refusal (an SMTP 5xx) is DEAD at once, since the same message
 * would be refused again; anything else is retried on the relay's schedule (a Retry-After on
 * 429 and 503 stretches the wait) until the schedule or `maxAgeSeconds` runs out: DEAD.
 */
export function nextAfter(
  deps: { random?: () => number },
  row: Pick<ClaimedRow, 'created_at' | 'retry_schedule' | 'max_age_seconds'>,
  attempt: number,
  outcome: SendOutcome,
  options: DispatchOptions,
): Pick<TransitionItem, 'next' | 'result'> {
  if (outcome.ok) return { next: { status: 'SUCCEEDED', attemptCount: attempt }, result: options.oneShot ? 'test' : 'succeeded' };
  if (outcome.status === 410 && outcome.errorClass === 'HTTP_STATUS' && !options.oneShot) return { next: { status: 'HELD', attemptCount: attempt }, result: 'gone' };
  if (outcome.permanent) return { next: { status: 'DEAD', attemptCount: attempt }, result: options.oneShot ? 'test' : 'dead' };
  const nowMs = Date.now();
  const hinted = outcome.status === 429 || outcome.status === 503 ? parseRetryAfter(outcome.retryAfter, nowMs) : null;
  const decision = nextAttempt({
    attempt,
    schedule: options.oneShot ? [] : (row.retry_schedule ?? DEFAULT_SCHEDULE_SECONDS),
    retryAfterMs: hinted,
    createdAtMs: new Date(row.created_at).getTime(),
    maxAgeSeconds: row.max_age_seconds,
    nowMs,
    random: (deps.random ?? Math.random)(),
  });
  if (decision.retry) return { next: { status: 'RETRYING', attemptCount: attempt, nextAttemptAt: new Date(nowMs + decision.delayMs) }, result: 'failed' };
  return { next: { status: 'DEAD', attemptCount: attempt }, result: options.oneShot ? 'test' : 'dead' };
}

/**
 * Back to where it was before the claim (nothing was sent), so the next claim of its job starts
 * it afresh. `claimed_by` stays: that job may claim it again even when its claim recorded an
 * INTERRUPTED attempt (the job's own attempt number is behind by then), and it records nothing.
 */
export async function release(deps: { pool: Pool }, job: DeliveryJob): Promise<void> {
  await inTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus }>(
      `update delivery set status = ${WAITING_STATUS_SQL}, updated_at = now()
       where id = $1 and status = 'DELIVERING' and attempt_count = $2 - 1 returning status`,
      [job.deliveryId, job.attempt],
    );
    if (rows[0]) await announceDeliveries(client, [{ id: job.deliveryId, status: rows[0].status, attemptCount: job.attempt - 1 }]);
  });
}

import { UnsealError } from '../../crypto/seal.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../log.js';
import type { JobAck } from '../../queue/boss.js';
import { nextAfter, release, ReleasedError, SHUTDOWN_MESSAGE } from '../attempt-end.js';
import { AttemptLog } from '../attempt-log.js';
import type { Claimed } from '../claim.js';
import { NOTHING_LOGGED, type AttemptContext, type Destinations } from '../destinations/destination.js';
import type { SendOutcome } from '../http-sender.js';
import type { RelayRates } from '../relay-rates.js';
import type { RecordOutcome } from '../transitions.js';

/** What sending a batch needs (a part of the dispatcher's dependencies). */
export interface BatchSendDeps {
  pool: import('pg').Pool;
  log: Logger;
  /** HTTP's builds and sends the batch's request. */
  destinations: Destinations;
  rates: RelayRates;
  random?: () => number;
}

/** One claimed delivery of a batch: its row (its attempt number included), its batch item, the job to complete with its outcome. */
export interface BatchEntry {
  row: Claimed;
  /** The serialised item (build-request.ts `batchItem`). */
  item: string;
  ack?: JobAck;
  signal: AbortSignal;
}

/**
 * Sends deliveries of one relay, all at the same attempt number, as one request: a JSON
 * array, signed once with `webhookId` as its `webhook-id`. `batchId` is the batch's id (the
 * same as `webhookId`), recorded on each delivery so that a retry sends the same batch again;
 * none for a delivery sent alone (its event id is the `webhook-id`). The items go oldest first,
 * so a retry's body is the same as the first try's. Each delivery records
 * the attempt, with one outcome and one next state for all: a failed batch is retried whole,
 * and gives up (DEAD) when its oldest delivery would. At shutdown, a batch whose request had
 * not left is released delivery by delivery (their jobs go back to pg-boss), and one cut
 * short after it left is recorded INTERRUPTED, as a single delivery would be.
 */
export async function sendBatch(deps: BatchSendDeps, record: RecordOutcome, unordered: readonly BatchEntry[], webhookId: string, batchId: string | null): Promise<void> {
  // Oldest first, in a fixed order: a retry of the batch sends the same body again.
  const entries = unordered.toSorted((a, b) => new Date(a.row.created_at).getTime() - new Date(b.row.created_at).getTime() || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0));
  const relay = entries[0]!.row;
  const attemptNumber = relay.attempt;
  const signal = entries.length === 1 ? entries[0]!.signal : AbortSignal.any(entries.map((e) => e.signal));
  let startedAt = new Date();
  let outcome: SendOutcome;
  let mayHaveLeft = false;
  // What was sent, as the attempt log keeps it: set by the destination once it built the request.
  const attempt: AttemptContext = {
    deliveryId: relay.id, signal, logged: NOTHING_LOGGED,
    onSending: () => {
      mayHaveLeft = true;
    },
  };
  const releaseAll = async (): Promise<never> => {
    await Promise.all(entries.map((e) => release(deps, { deliveryId: e.row.id, attempt: attemptNumber })));
    throw new ReleasedError(entries.map((e) => e.row.id).join(', '));
  };
  try {
    const turnUs = await deps.rates.wait(relay.relay_id, relay.rate_limit_per_second, signal);
    if (turnUs !== undefined) startedAt = new Date(Math.floor(turnUs / 1000));
    outcome = await deps.destinations.HTTP.sendBatch(relay, entries.map((e) => e.item), webhookId, attempt);
  } catch (error) {
    if (signal.aborted) return releaseAll();
    const message = error instanceof UnsealError ? `cannot open the relay's secrets: ${error.message}` : (error as Error).message;
    outcome = { ok: false, errorClass: 'LOCAL', message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: 0 };
  }
  let decided;
  if (signal.aborted && !outcome.ok && outcome.errorClass === 'TIMEOUT') {
    if (!mayHaveLeft) return releaseAll();
    outcome = { ...outcome, errorClass: 'INTERRUPTED', message: SHUTDOWN_MESSAGE };
    decided = { next: { status: 'RETRYING' as const, attemptCount: attemptNumber, nextAttemptAt: new Date() }, result: 'interrupted' as const };
  } else {
    // The batch's oldest delivery decides for all: it is the first past `maxAgeSeconds`.
    const oldest = entries.reduce((a, e) => (new Date(e.row.created_at) < new Date(a.created_at) ? e.row : a), relay);
    decided = nextAfter(deps, oldest, attemptNumber, outcome, {});
  }
  if (!outcome.ok && outcome.detail) deps.log.warn({ relayId: relay.relay_id, batchId, errorClass: outcome.errorClass, detail: outcome.detail }, 'delivery refused');
  await Promise.all(entries.map((e) => {
    const item = { row: e.row, job: { deliveryId: e.row.id, attempt: attemptNumber }, ack: e.ack, attempt: { id: newId(), startedAt, outcome, logged: attempt.logged }, batchId, ...decided };
    new AttemptLog(deps.log, e.row, e.row.id, attemptNumber).recorded(item);
    return record(item);
  }));
}

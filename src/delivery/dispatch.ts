import type { Tracer } from '@opentelemetry/api';
import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { UnsealError } from '../crypto/seal.js';
import { newId } from '../ids.js';
import type { DeliveryJob, JobAck } from '../queue/boss.js';
import { batchItem } from './build-request.js';
import { NOTHING_LOGGED, type AttemptContext, type Destinations } from './destinations/destination.js';
import { claimDeliveries, type ClaimInput, type Claimed } from './claim.js';
import type { Batcher } from './batching/batcher.js';
import { sendBatch } from './batching/send-batch.js';
import type { FetchedJob } from './lane-pump.js';
import { fetchDeliveryJobs, type FetchRequest } from '../queue/fetch-jobs.js';
import { deliveryAttempts } from '../metrics.js';
import { nextAfter, release, ReleasedError, SHUTDOWN_MESSAGE, type DispatchOptions } from './attempt-end.js';
export { ReleasedError, type DispatchOptions } from './attempt-end.js';
import type { SendOutcome } from './http-sender.js';
import type { RelayRates } from './relay-rates.js';
import type { OutcomeDeps, RecordOutcome, TransitionItem } from './transitions.js';
import { AttemptSpan } from '../tracing/attempt-span.js';
import { AttemptLog } from './attempt-log.js';

export interface DispatchDeps extends OutcomeDeps {
  keyring: Keyring;
  /** Where a delivery goes, by its relay's kind (a batch: HTTP's). */
  destinations: Destinations;
  rates: RelayRates;
  random?: () => number;
  /** Set when tracing is on: a span per attempt and a `traceparent` to the receiver. */
  tracer?: Tracer;
  /** A worker's open batches (batching relays); without one, each delivery of such a relay goes alone. */
  batcher?: Batcher;
}

export interface DispatchItem {
  job: DeliveryJob;
  /** The pg-boss job's id (stable when pg-boss hands the job out again); any fresh id without one. */
  jobId: string;
  /** The fetched pg-boss job, completed in the transaction that records the attempt; none for a test send. */
  ack?: JobAck;
  signal: AbortSignal;
}

/**
 * Fetches a lane's jobs (pg-boss's fetch, queue/fetch-jobs.ts) and claims their deliveries on
 * the worker's turn's transaction: the jobs and their claims commit together. Resolves with the
 * claim sent and its answer to come (LaneWork `fetch`). Two statements:
 * folded into one, the claim's joins were planned on the fetched rows' unknown count and cost
 * 2.5× the two statements' execution (drain --statements, issue 13).
 */
export async function fetchClaimed(boss: PgBoss, client: PoolClient, request: FetchRequest): Promise<{ items: FetchedJob[]; claimed: Promise<Map<string, Claimed>> }> {
  const rows = await fetchDeliveryJobs(boss, client, request);
  const items = rows.map((row) => ({
    job: row.job_data,
    jobId: row.job_id,
    ack: { id: row.job_id, retryCount: row.job_retry_count },
    relayId: row.job_group_id ?? '',
    ...(row.job_group_tier ? { tier: Number(row.job_group_tier) } : {}),
  }));
  if (items.length === 0) return { items, claimed: Promise.resolve(new Map()) };
  const claimed = claimDeliveries(client, await withBatchMembers(client, items), newId);
  // Sent, not answered: its failure rolls back the commit that follows it, which fails the turn.
  claimed.catch(() => {});
  return { items, claimed };
}

/**
 * The claims a fetch makes: a delivery per job, and for a failed batch's retry job every
 * delivery of that batch still waiting for it (or left DELIVERING by a crash), all at the job's
 * attempt number (a batch's deliveries share it, see batching/batcher.ts). A statement more
 * only when the fetch holds such a job.
 */
async function withBatchMembers(client: PoolClient, items: readonly ClaimInput[]): Promise<ClaimInput[]> {
  const retries = new Map(items.flatMap((i) => (i.job.batchId ? [[i.job.batchId, i] as const] : [])));
  if (retries.size === 0) return [...items];
  const { rows } = await client.query<{ id: string; batch_id: string }>({
    name: 'hookyard-batch-members',
    text: `select id, batch_id from delivery where batch_id = any($1::uuid[]) and status in ('RETRYING', 'DELIVERING')`,
    values: [[...retries.keys()]],
  });
  const members = rows.map((m) => ({ job: { deliveryId: m.id, attempt: retries.get(m.batch_id)!.job.attempt }, jobId: retries.get(m.batch_id)!.jobId }));
  return [...items.filter((i) => !i.job.batchId), ...members];
}

/**
 * Runs one attempt of each claimed delivery of a batch, each request on its own, each outcome
 * handed to `record` (the worker's group commit). One promise per item, resolving `true` when
 * the attempt was recorded (its job, if it has one, completed with it), `false` when there was
 * nothing to do (already recorded, HELD); delivery failures never reject (only a database error
 * or a release at shutdown does).
 */
export function attemptClaimed(deps: DispatchDeps, record: RecordOutcome, items: readonly DispatchItem[], claimed: Map<string, Claimed>, options: DispatchOptions = {}): Promise<boolean>[] {
  return items.map(async ({ job, jobId, ack, signal }) => {
    if (job.batchId) {
      // A failed batch's retry: every delivery its job claimed, sent again as that batch.
      const members = [...claimed.values()].filter((r) => r.claimed_by === jobId && r.batch_id === job.batchId);
      for (const r of members) if (r.interrupted) deliveryAttempts.inc({ status: r.status, error_class: 'INTERRUPTED' });
      const sending = members.filter((r) => r.status !== 'HELD');
      if (sending.length === 0) return false;
      await sendBatch(deps, record, sending.map((r, i) => ({ row: r, item: batchItem(r), ack: i === 0 ? ack : undefined, signal })), job.batchId, job.batchId);
      return true;
    }
    const row = claimed.get(job.deliveryId);
    if (row?.interrupted) deliveryAttempts.inc({ status: row.status, error_class: 'INTERRUPTED' });
    // Claimed by another job of the same fetch (a batch's retry took it): that job sends it.
    if (!row || row.status === 'HELD' || row.claimed_by !== jobId) return false;
    if (row.batch_max_events && !options.oneShot) {
      // A batching relay: into its open batch, or alone (an operator sent it again) under its event id.
      if (row.alone || !deps.batcher) await sendBatch(deps, record, [{ row, item: batchItem(row), ack, signal }], row.event_id, null);
      else await deps.batcher.add(row, ack, signal);
      return true;
    }
    // The attempt the claim gave us: the job's own, or the one after an attempt it recorded as INTERRUPTED.
    await attemptOnce(deps, record, row, { deliveryId: job.deliveryId, attempt: row.attempt }, ack, signal, options);
    return true;
  });
}

/** One delivery on its own (sendTestEvent): its claim in a statement of its own. */
export async function dispatch(deps: DispatchDeps, record: RecordOutcome, job: DeliveryJob, signal: AbortSignal = new AbortController().signal, options: DispatchOptions = {}): Promise<void> {
  const item = { job, jobId: newId(), signal };
  const claimed = await claimDeliveries(deps.pool, [item], newId, options.ignoreDisabled ?? false);
  await attemptClaimed(deps, record, [item], claimed, options)[0];
}

async function attemptOnce(deps: DispatchDeps, recordOutcome: RecordOutcome, row: Claimed, job: DeliveryJob, ack: JobAck | undefined, signal: AbortSignal, options: DispatchOptions): Promise<void> {
  const span = deps.tracer
    ? new AttemptSpan(deps.tracer, { deliveryId: job.deliveryId, eventId: row.event_id, relayId: row.relay_id, attempt: job.attempt, url: row.url, traceparent: row.traceparent, correlationId: row.correlation_id })
    : undefined;
  const log = new AttemptLog(deps.log, row, job.deliveryId, job.attempt, span?.traceId);
  // Every way out of an attempt ends its span: recorded with its outcome, or released unsent.
  const record = (item: TransitionItem): Promise<void> => {
    const { outcome } = item.attempt;
    span?.end({ ok: outcome.ok, status: outcome.status, errorClass: outcome.ok ? undefined : outcome.errorClass, result: item.result });
    log.recorded(item);
    return recordOutcome(item);
  };
  const released = (): ReleasedError => {
    span?.end({ ok: false, status: null, result: 'released' });
    return new ReleasedError(job.deliveryId);
  };
  // When the attempt may leave: now, or the relay's booked turn under its rate limit (so the
  // log shows the spacing the limit holds).
  let startedAt = new Date();
  let outcome: SendOutcome;
  // From here on the receiver may get the request: an abort can no longer take it back.
  let mayHaveLeft = false;
  const sent: AttemptContext = {
    deliveryId: job.deliveryId, signal, traceparent: span?.traceparent, logged: NOTHING_LOGGED,
    onSending: () => {
      mayHaveLeft = true;
    },
  };
  try {
    const turnUs = await deps.rates.wait(row.relay_id, row.rate_limit_per_second, signal);
    if (turnUs !== undefined) startedAt = new Date(Math.floor(turnUs / 1000));
    // The relay's kind picks its destination (destinations/): an HTTP request, an email.
    outcome = await deps.destinations[row.kind ?? 'HTTP'].send(row, sent);
  } catch (error) {
    if (signal.aborted) {
      await release(deps, job);
      throw released();
    }
    // Nothing was sent: a secret this process cannot open (a key it does not hold, a value
    // altered or moved from another row) is the relay's to report, as a failed attempt.
    const message = error instanceof UnsealError ? `cannot open the relay's secrets: ${error.message}` : (error as Error).message;
    outcome = { ok: false, errorClass: 'LOCAL', message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: 0 };
  }
  if (signal.aborted && !outcome.ok && outcome.errorClass === 'TIMEOUT') {
    if (!mayHaveLeft) {
      await release(deps, job);
      throw released();
    }
    // Cut short at shutdown after it left: an attempt like any other in the log, and the next
    // one is due at once (the receiver did not fail; see retry policy in README "Interrupted attempts").
    const interrupted: SendOutcome = { ...outcome, errorClass: 'INTERRUPTED', message: SHUTDOWN_MESSAGE };
    const attempt = { id: newId(), startedAt, outcome: interrupted, logged: sent.logged };
    const next = options.oneShot ? { status: 'DEAD' as const, attemptCount: job.attempt } : { status: 'RETRYING' as const, attemptCount: job.attempt, nextAttemptAt: new Date() };
    await record({ row, job, ack, next, attempt, result: options.oneShot ? 'test' : 'interrupted' });
    return;
  }

  if (!outcome.ok && outcome.detail) log.lines.warn({ errorClass: outcome.errorClass, detail: outcome.detail }, 'delivery refused');
  const attempt = { id: newId(), startedAt, outcome, logged: sent.logged };
  await record({ row, job, ack, attempt, ...nextAfter(deps, row, job.attempt, outcome, options) });
}


import type { Tracer } from '@opentelemetry/api';
import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { UnsealError } from '../crypto/seal.js';
import { sealedAt } from '../crypto/sealed-at.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import type { DeliveryJob, JobAck } from '../queue/boss.js';
import { buildRequest } from './build-request.js';
import type { OpenedSecrets } from './opened-secrets.js';
import { claimDeliveries, type Claimed } from './claim.js';
import type { FetchedJob } from './lane-pump.js';
import { fetchDeliveryJobs, type FetchRequest } from '../queue/fetch-jobs.js';
import { announceDeliveries } from './enqueue.js';
import { deliveryAttempts } from '../metrics.js';
import type { HttpSender, SendOutcome } from './http-sender.js';
import type { RelayRates } from './relay-rates.js';
import { DEFAULT_SCHEDULE_SECONDS, nextAttempt, parseRetryAfter } from './retry-policy.js';
import { WAITING_STATUS_SQL } from './status-machine.js';
import type { OutcomeDeps, RecordOutcome, TransitionItem } from './transitions.js';
import { AttemptSpan } from '../tracing/attempt-span.js';
import { AttemptLog } from './attempt-log.js';

export interface DispatchDeps extends OutcomeDeps {
  keyring: Keyring;
  /** Relay secrets opened once per process (one instance, built by the composition root). */
  secrets: OpenedSecrets;
  sender: HttpSender;
  userAgent: string;
  rates: RelayRates;
  random?: () => number;
  /** Set when tracing is on: a span per attempt and a `traceparent` to the receiver. */
  tracer?: Tracer;
}

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

export interface DispatchItem {
  job: DeliveryJob;
  /** The pg-boss job's id (stable when pg-boss hands the job out again); any fresh id without one. */
  jobId: string;
  /** The fetched pg-boss job, completed in the transaction that records the attempt; none for a test send. */
  ack?: JobAck;
  signal: AbortSignal;
}

const SHUTDOWN_MESSAGE = 'the worker shut down while this request was in flight; the receiver may have it';

/**
 * Fetches a lane's jobs (pg-boss's fetch, queue/fetch-jobs.ts) and claims their deliveries on
 * the worker's turn's transaction: the jobs and their claims commit together. Two statements:
 * folded into one, the claim's joins were planned on the fetched rows' unknown count and cost
 * 2.5× the two statements' execution (drain --statements, issue 13).
 */
export async function fetchClaimed(boss: PgBoss, client: PoolClient, request: FetchRequest): Promise<{ items: FetchedJob[]; claimed: Map<string, Claimed> }> {
  const rows = await fetchDeliveryJobs(boss, client, request);
  const items = rows.map((row) => ({
    job: row.job_data,
    jobId: row.job_id,
    ack: { id: row.job_id, retryCount: row.job_retry_count },
    relayId: row.job_group_id ?? '',
    ...(row.job_group_tier ? { tier: Number(row.job_group_tier) } : {}),
  }));
  return { items, claimed: items.length > 0 ? await claimDeliveries(client, items, newId) : new Map() };
}

/**
 * Runs one attempt of each claimed delivery of a batch, each request on its own, each outcome
 * handed to `record` (the worker's group commit). One promise per item, resolving `true` when
 * the attempt was recorded (its job, if it has one, completed with it), `false` when there was
 * nothing to do (already recorded, HELD); delivery failures never reject (only a database error
 * or a release at shutdown does).
 */
export function attemptClaimed(deps: DispatchDeps, record: RecordOutcome, items: readonly DispatchItem[], claimed: Map<string, Claimed>, options: DispatchOptions = {}): Promise<boolean>[] {
  return items.map(async ({ job, ack, signal }) => {
    const row = claimed.get(job.deliveryId);
    if (row?.interrupted) deliveryAttempts.inc({ status: row.status, error_class: 'INTERRUPTED' });
    if (!row || row.status === 'HELD') return false;
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
  let logged: Record<string, string> = {};
  // From here on the receiver may get the request: an abort can no longer take it back.
  let mayHaveLeft = false;
  const onSending = () => {
    mayHaveLeft = true;
  };
  try {
    const turnUs = await deps.rates.wait(row.relay_id, row.rate_limit_per_second, signal);
    if (turnUs !== undefined) startedAt = new Date(Math.floor(turnUs / 1000));
    const request = buildRequest(row, deps.secrets, deps.userAgent, job.deliveryId, new Date(), span?.traceparent);
    logged = request.logged;
    const proxyUrl = row.proxy_url_sealed ? deps.secrets.text(row.proxy_url_sealed, sealedAt.relayProxyUrl(row.relay_id)) : row.proxy_url;
    outcome = await deps.sender.send({ url: row.url, method: row.method, headers: request.headers, body: row.body, timeoutMs: row.timeout_ms, proxyUrl, relayId: row.relay_id, signal, onSending });
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
    const attempt = { id: newId(), startedAt, outcome: interrupted, logged };
    const next = options.oneShot ? { status: 'DEAD' as const, attemptCount: job.attempt } : { status: 'RETRYING' as const, attemptCount: job.attempt, nextAttemptAt: new Date() };
    await record({ row, job, ack, next, attempt, result: options.oneShot ? 'test' : 'interrupted' });
    return;
  }

  if (!outcome.ok && outcome.detail) log.lines.warn({ errorClass: outcome.errorClass, detail: outcome.detail }, 'delivery refused');
  const attempt = { id: newId(), startedAt, outcome, logged };
  if (outcome.ok) {
    await record({ row, job, ack, next: { status: 'SUCCEEDED', attemptCount: job.attempt }, attempt, result: options.oneShot ? 'test' : 'succeeded' });
    return;
  }
  if (outcome.status === 410 && !options.oneShot) {
    // The receiver says the endpoint is gone for good: stop sending until someone re-enables it.
    await record({ row, job, ack, next: { status: 'HELD', attemptCount: job.attempt }, attempt, result: 'gone' });
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
    await record({ row, job, ack, next: { status: 'RETRYING', attemptCount: job.attempt, nextAttemptAt: new Date(nowMs + decision.delayMs) }, attempt, result: 'failed' });
  } else {
    await record({ row, job, ack, next: { status: 'DEAD', attemptCount: job.attempt }, attempt, result: options.oneShot ? 'test' : 'dead' });
  }
}

/**
 * Back to where it was before the claim (nothing was sent), so the next claim of its job starts
 * it afresh. `claimed_by` stays: that job may claim it again even when its claim recorded an
 * INTERRUPTED attempt (the job's own attempt number is behind by then), and it records nothing.
 */
async function release(deps: DispatchDeps, job: DeliveryJob): Promise<void> {
  await inTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<{ status: DeliveryStatus }>(
      `update delivery set status = ${WAITING_STATUS_SQL}, updated_at = now()
       where id = $1 and status = 'DELIVERING' and attempt_count = $2 - 1 returning status`,
      [job.deliveryId, job.attempt],
    );
    if (rows[0]) await announceDeliveries(client, [{ id: job.deliveryId, status: rows[0].status, attemptCount: job.attempt - 1 }]);
  });
}

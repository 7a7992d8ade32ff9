import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { GroupCommit } from '../db/group-commit.js';
import { isStatementTimeout } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import { insertAll, type AcceptResult, type NewEvent } from './accept.js';

export interface AcceptLimits {
  /** Requests waiting for a transaction; one more is refused at once. */
  maxQueue: number;
  /** How long a request waits for its commit, queue and transaction together. */
  timeoutMs: number;
}

const MAX_BATCH = 64;
/**
 * One commit in flight at once: requests that arrive meanwhile share the next. Every ingest
 * commit NOTIFYs, and PostgreSQL serialises notifying commits through their WAL flush, so
 * commits in parallel overlap little; what they do is split the waiting requests into small
 * batches. With three, a 32-connection load made batches of about 6 and cost 1.4 statements
 * and 0.8–0.95 ms of CPU (API process and PostgreSQL) per request; with one, batches of about
 * 15, 0.4 statements and 0.6–0.7 ms (bench/tools/ingest-e2e.ts, issue 13).
 */
const MAX_FLUSHES = 1;

/** A batch is retried request by request only for errors one request's data can cause. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}

const busy = (message: string) => new AppError('INGEST_BUSY', message, { retryAfter: 2 });

/**
 * Group commit for ingest (db/group-commit.ts): under load one WAL flush and one NOTIFY serve
 * many webhooks, while an idle server commits each request at once.
 *
 * Bounded, and never both answers: a request is either committed (and resolves) or dropped
 * before its transaction (and rejects with INGEST_BUSY). One still queued at its deadline
 * leaves the queue; one in a transaction is bounded by `statement_timeout`, so a slow database
 * rolls the transaction back rather than letting it commit after the sender heard 503 (the
 * sender would retry, and the event would be stored twice).
 */
export class AcceptBatcher {
  private readonly group: GroupCommit<readonly NewEvent[], AcceptResult[]>;

  constructor(pool: Pool, boss: PgBoss, limits: AcceptLimits = { maxQueue: 2048, timeoutMs: 4500 }) {
    this.group = new GroupCommit(pool, {
      work: (client, requests) => insertAll(client, boss, requests),
      maxBatch: MAX_BATCH,
      maxFlushes: MAX_FLUSHES,
      maxQueue: limits.maxQueue,
      timeoutMs: limits.timeoutMs,
      retryAlone: (error) => !isStatementTimeout(error) && retryable(error),
      explain: (error) => (isStatementTimeout(error) ? busy('the database did not store this webhook in time; it was not stored, retry later') : error),
      full: () => busy('too many webhooks are waiting to be stored; retry later'),
      late: () => busy('the database did not take this webhook in time; it was not stored, retry later'),
    });
  }

  accept(events: readonly NewEvent[]): Promise<AcceptResult[]> {
    return this.group.add(events);
  }
}

import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { GroupCommit } from '../db/group-commit.js';
import { boundSession } from '../db/session-timeout.js';
import { inTransaction, transactionBound, withClient } from '../db/transaction.js';
import { isStatementTimeout } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import { insertAll, type AcceptResult, type NewEvent } from './accept.js';
import { planOneStatement, ROUTING_CHANGED } from './accept-in-one-statement.js';
import { CandidateCache } from './candidate-cache.js';

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
  private readonly candidates = new CandidateCache();

  /**
   * `pool`: connections for ingest commits alone (`createIngestPool`): the one-statement batch
   * bounds its statement with a session-level `statement_timeout`, which must not reach anyone
   * else's statements.
   */
  constructor(
    private readonly pool: Pool,
    private readonly boss: PgBoss,
    limits: AcceptLimits = { maxQueue: 2048, timeoutMs: 4500 },
  ) {
    this.group = new GroupCommit(pool, {
      commitBatch: (requests, deadline) => this.commit(requests, deadline),
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

  /**
   * In one statement when the batch can be (accept-in-one-statement.ts), else (or when the
   * routing changed under the cached candidates) in the transaction of `insertAll`, which reads
   * the candidates again and caches them.
   */
  private async commit(requests: (readonly NewEvent[])[], deadline: number): Promise<AcceptResult[][]> {
    const oneStatement = planOneStatement(this.boss, this.candidates, requests);
    if (oneStatement) {
      const done = await withClient(this.pool, async (client) => {
        if (deadline !== Infinity) await boundSession(client, deadline - Date.now());
        return oneStatement.run(client).catch((error: unknown) => {
          if ((error as { code?: unknown }).code === ROUTING_CHANGED) return undefined;
          throw error;
        });
      });
      if (done) return done;
    }
    return inTransaction(this.pool, (client) => insertAll(client, this.boss, requests, this.candidates), transactionBound(deadline));
  }
}

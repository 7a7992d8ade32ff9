import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { isStatementTimeout } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import { insertAll, type AcceptResult, type NewEvent } from './accept.js';

interface Pending {
  events: readonly NewEvent[];
  resolve: (results: AcceptResult[]) => void;
  reject: (error: unknown) => void;
  deadline: number;
  timer: NodeJS.Timeout | undefined;
}

export interface AcceptLimits {
  /** Requests waiting for a transaction; one more is refused at once. */
  maxQueue: number;
  /** How long a request waits for its commit, queue and transaction together. */
  timeoutMs: number;
}

const MAX_BATCH = 64;
/** Commits in flight at once: while one waits for its WAL flush, the next batch is being written. */
const MAX_FLUSHES = 3;

/** A batch is retried request by request only for errors one request's data can cause. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}

const busy = (message: string) => new AppError('INGEST_BUSY', message, { retryAfter: 2 });

/**
 * Group commit for ingest: requests that arrive while a commit is under way share the next
 * one, so under load one WAL flush and one NOTIFY serve many webhooks, while an idle server
 * commits each request at once (no added wait). A batch that fails is retried request by
 * request, so one bad request never fails its neighbours.
 *
 * Bounded, and never both answers: a request is either committed (and resolves) or dropped
 * before its transaction (and rejects with INGEST_BUSY). One still queued at its deadline
 * leaves the queue; one in a transaction is bounded by `statement_timeout`, so a slow database
 * rolls the transaction back rather than letting it commit after the sender heard 503 (the
 * sender would retry, and the event would be stored twice).
 */
export class AcceptBatcher {
  private readonly queue: Pending[] = [];
  private flushes = 0;

  constructor(
    private readonly pool: Pool,
    private readonly boss: PgBoss,
    private readonly limits: AcceptLimits = { maxQueue: 2048, timeoutMs: 4500 },
  ) {}

  accept(events: readonly NewEvent[]): Promise<AcceptResult[]> {
    if (this.queue.length >= this.limits.maxQueue) return Promise.reject(busy('too many webhooks are waiting to be stored; retry later'));
    return new Promise((resolve, reject) => {
      const pending: Pending = { events, resolve, reject, deadline: Date.now() + this.limits.timeoutMs, timer: undefined };
      pending.timer = setTimeout(() => {
        const index = this.queue.indexOf(pending);
        if (index < 0) return;
        this.queue.splice(index, 1);
        reject(busy('the database did not take this webhook in time; it was not stored, retry later'));
      }, this.limits.timeoutMs);
      this.queue.push(pending);
      if (this.flushes < MAX_FLUSHES) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushes++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        for (const p of batch) clearTimeout(p.timer);
        await this.commit(batch).catch(async (error: unknown) => {
          if (batch.length === 1 || isStatementTimeout(error) || !retryable(error)) {
            for (const p of batch) p.reject(this.explain(error));
            return;
          }
          for (const p of batch) await this.commit([p]).catch((e: unknown) => p.reject(this.explain(e)));
        });
      }
    } finally {
      this.flushes--;
    }
  }

  /** One transaction for the batch, its statements bounded by the earliest deadline in it. */
  private async commit(batch: Pending[]): Promise<void> {
    const live = batch.filter((p) => {
      if (p.deadline > Date.now()) return true;
      p.reject(busy('the database did not take this webhook in time; it was not stored, retry later'));
      return false;
    });
    if (live.length === 0) return;
    const budget = Math.max(1, Math.min(...live.map((p) => p.deadline)) - Date.now());
    const results = await inTransaction(this.pool, async (client) => {
      await client.query(`set local statement_timeout = ${Math.ceil(budget)}`);
      return insertAll(client, this.boss, live.map((p) => p.events));
    });
    live.forEach((p, i) => p.resolve(results[i]!));
  }

  private explain(error: unknown): unknown {
    return isStatementTimeout(error) ? busy('the database did not store this webhook in time; it was not stored, retry later') : error;
  }
}

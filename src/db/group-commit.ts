import type { Pool, PoolClient } from 'pg';
import { inTransaction, transactionBound } from './transaction.js';

export interface GroupCommitOptions<T, R> {
  /** The work of a batch in its one transaction: one result per item, in order. */
  work?: (client: PoolClient, items: T[]) => Promise<R[]>;
  /**
   * Instead of `work`: commits a batch itself (one result per item, in order), for work that
   * chooses its own transactions; `deadline` (ms since the epoch, Infinity for none) is the
   * earliest of its items', which it must not commit after.
   */
  commitBatch?: (items: T[], deadline: number) => Promise<R[]>;
  /** Items one transaction takes at most. */
  maxBatch: number;
  /** Transactions under way at once (default 1): while one waits for its WAL flush, the next is written. */
  maxFlushes?: number;
  /** Items waiting for a transaction at most; one more is refused at once with `full()` (default: no bound). */
  maxQueue?: number;
  /**
   * How long an item may wait for its commit, queue and transaction together (default: no
   * bound). One still queued at its deadline leaves the queue (`late()`); a transaction's
   * statements are bounded by the earliest deadline in it (`statement_timeout`), so a slow
   * database rolls it back rather than committing after its caller gave up.
   */
  timeoutMs?: number;
  /** Whether a failed batch is retried item by item (default: always): only errors one item's data can cause are worth it. */
  retryAlone?: (error: unknown) => boolean;
  /** The error a caller sees for a failed transaction (default: the error itself). */
  explain?: (error: unknown) => unknown;
  full?: () => Error;
  late?: () => Error;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  deadline: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Group commit: items that arrive while a commit is under way share the next one, so under
 * load one transaction (one WAL flush, one NOTIFY) serves many, while an idle caller commits
 * at once (no added wait). Each item's promise settles with its own commit. A batch that
 * fails is retried item by item, so one bad item never fails its neighbours.
 */
export class GroupCommit<T, R> {
  private readonly queue: Pending<T, R>[] = [];
  private flushes = 0;

  constructor(
    private readonly pool: Pool,
    private readonly options: GroupCommitOptions<T, R>,
  ) {
    if (!options.work === !options.commitBatch) throw new Error('a group commit takes either work or commitBatch');
  }

  add(item: T): Promise<R> {
    const { maxQueue = Infinity, timeoutMs } = this.options;
    if (this.queue.length >= maxQueue) return Promise.reject(this.options.full?.() ?? new Error('too many items are waiting for a commit'));
    return new Promise((resolve, reject) => {
      const pending: Pending<T, R> = { item, resolve, reject, deadline: timeoutMs === undefined ? Infinity : Date.now() + timeoutMs, timer: undefined };
      if (timeoutMs !== undefined) {
        pending.timer = setTimeout(() => {
          const index = this.queue.indexOf(pending);
          if (index < 0) return;
          this.queue.splice(index, 1);
          reject(this.lateError());
        }, timeoutMs);
      }
      this.queue.push(pending);
      if (this.flushes < (this.options.maxFlushes ?? 1)) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushes++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        for (const p of batch) clearTimeout(p.timer);
        await this.commit(batch).catch(async (error: unknown) => {
          if (batch.length === 1 || !(this.options.retryAlone?.(error) ?? true)) {
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

  /** One transaction for the batch, less the items whose deadline passed while they waited. */
  private async commit(batch: Pending<T, R>[]): Promise<void> {
    const live = batch.filter((p) => {
      if (p.deadline > Date.now()) return true;
      p.reject(this.lateError());
      return false;
    });
    if (live.length === 0) return;
    const deadline = this.options.timeoutMs === undefined ? Infinity : Math.min(...live.map((p) => p.deadline));
    const items = live.map((p) => p.item);
    const { work, commitBatch } = this.options;
    const results = commitBatch ? await commitBatch(items, deadline) : await inTransaction(this.pool, (client) => work!(client, items), transactionBound(deadline));
    live.forEach((p, i) => p.resolve(results[i]!));
  }

  private explain(error: unknown): unknown {
    return this.options.explain ? this.options.explain(error) : error;
  }

  private lateError(): Error {
    return this.options.late?.() ?? new Error('the item waited longer than its deadline for a commit');
  }
}

import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { insertAll, type AcceptResult, type NewEvent } from './accept.js';

interface Pending {
  events: readonly NewEvent[];
  resolve: (results: AcceptResult[]) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 64;
/** Commits in flight at once: while one waits for its WAL flush, the next batch is being written. */
const MAX_FLUSHES = 3;

/**
 * Group commit for ingest: requests that arrive while a commit is under way share the next
 * one, so under load one WAL flush and one NOTIFY serve many webhooks, while an idle server
 * commits each request at once (no added wait). Every request is still answered only after
 * the commit that holds its own events. A batch that fails is retried request by request, so
 * one bad request never fails its neighbours.
 */
export class AcceptBatcher {
  private readonly queue: Pending[] = [];
  private flushes = 0;

  constructor(
    private readonly pool: Pool,
    private readonly boss: PgBoss,
  ) {}

  accept(events: readonly NewEvent[]): Promise<AcceptResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (this.flushes < MAX_FLUSHES) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushes++;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const results = await inTransaction(this.pool, (client) => insertAll(client, this.boss, batch.map((p) => p.events)));
        batch.forEach((p, i) => p.resolve(results[i]!));
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        for (const p of batch) {
          await inTransaction(this.pool, (client) => insertAll(client, this.boss, [p.events])).then((r) => p.resolve(r[0]!), p.reject);
        }
      }
    }
    this.flushes--;
  }
}

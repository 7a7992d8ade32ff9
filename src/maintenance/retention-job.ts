import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../log.js';
import { pruneOnce } from './retention.js';
import { sweepLines } from '../delivery/ordering/lines.js';

export const RETENTION_QUEUE = 'hookyard-retention';

export interface RetentionJobOptions {
  retentionHours: number;
  auditRetentionDays: number;
  /** Cron expression, UTC. */
  cron?: string;
  log?: Logger;
}

/**
 * Prunes on a schedule. pg-boss creates one job per cron slot whichever instance runs the
 * cron pass, and the `stately` policy keeps at most one job queued and one active across all
 * instances, so a run that outlasts its slot is never overlapped, only followed by one more.
 * A failed run is not retried: the next slot starts over. No NOTIFY (see queue/boss.ts): a
 * poll every few seconds is plenty for a job due every ten minutes.
 */
export async function startRetention(boss: PgBoss, pool: Pool, options: RetentionJobOptions): Promise<void> {
  if (!(await boss.getQueue(RETENTION_QUEUE))) {
    await boss.createQueue(RETENTION_QUEUE, { policy: 'stately', retryLimit: 0, expireInSeconds: 3600, deleteAfterSeconds: 86_400 });
  }
  await boss.schedule(RETENTION_QUEUE, options.cron ?? '*/10 * * * *');
  await boss.work(RETENTION_QUEUE, { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 5 }, async () => {
    try {
      const counts = await pruneOnce(pool, { retentionHours: options.retentionHours, auditRetentionDays: options.auditRetentionDays });
      const lines = await sweepLines(pool, boss);
      options.log?.info({ ...counts, ...lines }, 'retention pruned');
      return counts;
    } catch (error) {
      options.log?.warn({ err: error }, 'retention run failed; the next slot tries again');
      throw error;
    }
  });
}

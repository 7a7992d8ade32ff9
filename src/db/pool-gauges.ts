import type { Pool } from 'pg';
import { poolInUse, poolMax, poolWaiting } from '../metrics.js';

/** A pool's counts as node-postgres keeps them (pg-boss's `poolCounts()` has the same shape). */
export interface PoolCounts {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export function countsOf(pool: Pool): PoolCounts {
  return { max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * Sets the pool gauges from this process's pools, by name. Counted in memory at scrape time:
 * nothing here touches the database. A pool not given (its counts unknown) is left out.
 */
export function setPoolGauges(pools: Record<string, () => PoolCounts | null | undefined>): void {
  for (const [pool, read] of Object.entries(pools)) {
    const counts = read();
    if (!counts) continue;
    poolInUse.set({ pool }, counts.total - counts.idle);
    poolWaiting.set({ pool }, counts.waiting);
    poolMax.set({ pool }, counts.max);
  }
}

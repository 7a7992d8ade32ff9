import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { DELIVERY_CHANNEL } from '../live/delivery-changes.js';
import type { NotifyBus } from '../live/notify-bus.js';
import { FIRST_TRY_QUEUE, RETRY_QUEUE } from '../queue/boss.js';
import { dispatch, type DispatchDeps } from './dispatch.js';
import { LanePump } from './lane-pump.js';

export interface WorkerOptions {
  /** Deliveries in flight at once, per lane. */
  concurrency: number;
  /** How soon a retry that came due is picked up: no NOTIFY marks the moment a job becomes due. */
  retryPollSeconds: number;
}

export interface DeliveryWorkers {
  running(): number;
  stop(deadlineMs: number): Promise<void>;
}

const TIER_REFRESH_MS = 5000;

/**
 * The two delivery lanes of a worker process. The first-try lane wakes on the delivery
 * NOTIFY that commits with new work (PENDING), and polls every 2 s as a backstop; the retry
 * lane polls every `retryPollSeconds`. Per-relay concurrency tiers are the relays' distinct
 * `maxConcurrency` values, refreshed every few seconds.
 */
export async function startDeliveryWorkers(boss: PgBoss, pool: Pool, bus: NotifyBus, deps: DispatchDeps, options: WorkerOptions): Promise<DeliveryWorkers> {
  let tiers: Record<string, number> = {};
  const refreshTiers = async () => {
    const { rows } = await pool.query<{ max_concurrency: number }>('select distinct max_concurrency from relay');
    tiers = Object.fromEntries(rows.map((r) => [String(r.max_concurrency), r.max_concurrency]));
  };
  await refreshTiers();
  const tierTimer = setInterval(() => void refreshTiers().catch(() => {}), TIER_REFRESH_MS);
  tierTimer.unref();

  const handle = (job: Parameters<typeof dispatch>[1], signal: AbortSignal) => dispatch(deps, job, signal);
  const first = new LanePump(boss, { queue: FIRST_TRY_QUEUE, capacity: options.concurrency, pollMs: 2000, tiers: () => tiers }, handle, deps.log);
  const retry = new LanePump(boss, { queue: RETRY_QUEUE, capacity: options.concurrency, pollMs: options.retryPollSeconds * 1000, tiers: () => tiers }, handle, deps.log);
  const unsubscribe = bus.subscribe(DELIVERY_CHANNEL, (payload) => {
    // New work is announced as `<id>:PENDING:…` (or RETRYING when a held relay is enabled again).
    if (payload.includes(':PENDING:') || payload.includes(':RETRYING:')) first.wake();
  });
  first.start();
  retry.start();
  return {
    running: () => first.running + retry.running,
    async stop(deadlineMs) {
      unsubscribe();
      clearInterval(tierTimer);
      await Promise.all([first.stop(deadlineMs), retry.stop(deadlineMs)]);
    },
  };
}

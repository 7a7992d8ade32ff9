import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';
import { DELIVERY_QUEUE, FIRST_TRY_PRIORITY, RETRY_PRIORITY } from '../queue/boss.js';
import { attemptClaimed, fetchClaimed, type DispatchDeps } from './dispatch.js';
import { LanePump, type LaneWork } from './lane-pump.js';
import type { Claimed } from './claim.js';
import { recordOutcomes, type RecordOutcome, type TransitionItem } from './transitions.js';
import { Batcher } from './batching/batcher.js';
import { sendBatch } from './batching/send-batch.js';
import { QUEUEABLE } from './status-machine.js';
import { queueTable } from '../queue/queue-table.js';

export interface WorkerOptions {
  /** The lanes' connections, one per lane, pipelined (db/pools.ts `createLanePool`). */
  lanes: Pool;
  /** Deliveries in flight at once, per lane. */
  concurrency: number;
  /** HOOKYARD_LANE_RESERVE_PERCENT: the part of each lane one relay may not take (default 20). */
  reservePercent?: number;
  /** How soon a retry that came due is picked up: no NOTIFY marks the moment a job becomes due. */
  retryPollSeconds: number;
}

export interface DeliveryWorkers {
  running(): number;
  stop(deadlineMs: number): Promise<void>;
}

/**
 * The two delivery lanes of a worker process, one pump each on the one delivery queue: first
 * tries (priority 1) and retries (priority 0). The first-try lane wakes on the delivery NOTIFY
 * that commits with new work (PENDING), and polls every 2 s as a backstop; the retry lane
 * polls every `retryPollSeconds`. Both fetch at once after a reconnect of the LISTEN
 * connection, since the wake-ups sent meanwhile are lost.
 */
export async function startDeliveryWorkers(boss: PgBoss, bus: NotifyBus, deps: DispatchDeps, options: WorkerOptions): Promise<DeliveryWorkers> {
  // Each lane records its own jobs' outcomes, in the transaction that fetches their successors,
  // and keeps its own open batches (batching relays), whose outcomes it records the same way.
  const batchers = new Map<RecordOutcome, Batcher>();
  const jobs = await queueTable(boss, DELIVERY_QUEUE);
  const batcherOf = (record: RecordOutcome): Batcher => {
    let batcher = batchers.get(record);
    if (!batcher) batchers.set(record, (batcher = new Batcher((entries, batchId) => sendBatch(deps, record, entries, batchId, batchId))));
    return batcher;
  };
  const work: LaneWork<Map<string, Claimed>, TransitionItem> = {
    fetch: (db, request) => fetchClaimed(boss, db, request),
    start: (items, claimed, record) => attemptClaimed({ ...deps, batcher: batcherOf(record) }, record, items, claimed),
    record: (client, outcomes) => recordOutcomes(deps, client, outcomes, jobs.table),
  };
  const reserve = Math.max(1, Math.ceil((options.concurrency * (options.reservePercent ?? 20)) / 100));
  const first = new LanePump(boss, options.lanes, { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: options.concurrency, reserve, pollMs: 2000 }, work, deps.log);
  const retry = new LanePump(boss, options.lanes, { queue: DELIVERY_QUEUE, priority: RETRY_PRIORITY, capacity: options.concurrency, reserve, pollMs: options.retryPollSeconds * 1000 }, work, deps.log);
  const unsubscribe = bus.subscribe(channels.delivery, {
    // New work is announced in a status a job waits in (PENDING, or RETRYING when a held relay is enabled again).
    receive: (changes) => {
      if (changes.some((c) => QUEUEABLE.includes(c.status))) first.wake();
    },
    resync: () => {
      first.wake();
      retry.wake();
    },
  });
  first.start();
  retry.start();
  return {
    running: () => first.running + retry.running,
    async stop(deadlineMs) {
      unsubscribe();
      await Promise.all([first.stop(deadlineMs), retry.stop(deadlineMs)]);
    },
  };
}

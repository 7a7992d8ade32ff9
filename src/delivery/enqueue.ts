import type { PoolClient } from 'pg';
import type { JobInsert, PgBoss } from 'pg-boss';
import { channels, type DeliveryChange } from '../db/notify/channels.js';
import { notify } from '../db/notify/send.js';
import { deliveryJob, DELIVERY_QUEUE, preparedOnClient, type DeliveryJob } from '../queue/boss.js';
import { QUEUEABLE } from './status-machine.js';

/** A delivery's new state, as its transaction left it (attempts recorded: a job performs the next one). */
export interface DeliveryTransition extends DeliveryChange {
  /** Set when the change queues the delivery's next attempt. */
  job?: {
    relayId: string;
    /** The relay's `maxConcurrency`: the job's pg-boss group tier. */
    maxConcurrency: number;
    /** A scheduled retry (the retry lane); none: the first-try lane, due now. */
    retryAt?: Date;
    /** The retry of a failed batch: one job for all its deliveries (delivery/batching/). */
    batchId?: string;
  };
}

/**
 * Queues the jobs of `changes` that carry one and announces every change, on the caller's
 * transaction: the jobs and the NOTIFY commit with the rows, or not at all. Jobs before the
 * NOTIFY, so a worker it wakes finds them. With `deliveryJobsOf`, the one place a delivery job
 * is made.
 */
export async function queueDeliveries(client: PoolClient, boss: PgBoss, changes: readonly DeliveryTransition[]): Promise<void> {
  await queueJobs(client, boss, changes);
  await announceDeliveries(client, changes);
}

/**
 * The jobs of `queueDeliveries` without its NOTIFY, for a producer that announces the changes
 * in the statement that writes their rows.
 */
export async function queueJobs(client: PoolClient, boss: PgBoss, changes: readonly DeliveryTransition[]): Promise<void> {
  const jobs = deliveryJobsOf(changes);
  if (jobs.length > 0) await boss.insert(DELIVERY_QUEUE, jobs, { db: preparedOnClient(client) });
}

/**
 * The pg-boss jobs `changes` queue: for `queueJobs`, and for ingest's fan-out, which writes
 * them in the statement that inserts their deliveries (queue/insert-jobs.ts).
 */
export function deliveryJobsOf(changes: readonly DeliveryTransition[]): JobInsert<DeliveryJob>[] {
  return changes.flatMap((c) => {
    if (!c.job) return [];
    // A job for a status no worker claims would complete as a no-op: a bug, not a delivery.
    if (!QUEUEABLE.includes(c.status)) throw new Error(`a ${c.status} delivery cannot be queued`);
    return [deliveryJob(c.id, c.attemptCount + 1, c.job.relayId, c.job.maxConcurrency, c.job.retryAt, c.job.batchId)];
  });
}

/** Announces status changes that queue nothing (holds, cancels, outcomes, releases), on the caller's transaction. */
export function announceDeliveries(client: PoolClient, changes: readonly DeliveryTransition[]): Promise<void> {
  return notify(client, channels.delivery, changes);
}

import type { PgBoss } from 'pg-boss';
import { FIRST_TRY_QUEUE, RETRY_QUEUE, type DeliveryJob } from '../queue/boss.js';
import { dispatch, type DispatchDeps } from './dispatch.js';

export interface WorkerOptions {
  /** Deliveries in flight at once, per lane. */
  concurrency: number;
  /** How soon a retry that came due is picked up: NOTIFY fires on insert, not when a job becomes due. */
  retryPollSeconds: number;
}

const BATCH = 10;

/**
 * Registers the delivery handlers on both lanes. A batch's jobs run concurrently; if any
 * throws (the database went away), pg-boss retries the batch, and the attempt-number guard
 * makes the ones that already finished no-ops.
 */
export async function startDeliveryWorkers(boss: PgBoss, deps: DispatchDeps, options: WorkerOptions): Promise<string[]> {
  const handler = async (jobs: { data: DeliveryJob }[]) => {
    const results = await Promise.allSettled(jobs.map((job) => dispatch(deps, job.data)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      deps.log.warn({ err: (failed.reason as Error).message }, 'delivery batch failed; pg-boss will retry it');
      throw failed.reason;
    }
  };
  const localConcurrency = Math.max(1, Math.ceil(options.concurrency / BATCH));
  const first = await boss.work<DeliveryJob>(
    FIRST_TRY_QUEUE,
    { batchSize: BATCH, localConcurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 },
    handler,
  );
  const retry = await boss.work<DeliveryJob>(
    RETRY_QUEUE,
    {
      batchSize: BATCH,
      localConcurrency,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: options.retryPollSeconds,
      notifyPollingIntervalSeconds: options.retryPollSeconds,
    },
    handler,
  );
  return [first, retry];
}

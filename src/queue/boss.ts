import { PgBoss, type Db, type JobInsert } from 'pg-boss';
import type { PoolClient } from 'pg';

/** First tries and retries travel in separate lanes so a retry backlog never starves fresh work. */
export const FIRST_TRY_QUEUE = 'delivery-first';
export const RETRY_QUEUE = 'delivery-retry';

export interface DeliveryJob {
  deliveryId: string;
  /** The attempt number this job performs; a job whose attempt was already recorded is a no-op. */
  attempt: number;
}

/**
 * A delivery job, grouped by relay: pg-boss's group concurrency keeps at most the relay's
 * `maxConcurrency` of its jobs active at once, across every worker process (the tier carries
 * the limit, see delivery/lane-pump.ts).
 */
export function deliveryJob(deliveryId: string, attempt: number, relayId: string, maxConcurrency: number, startAfter?: Date): JobInsert<DeliveryJob> {
  return { data: { deliveryId, attempt }, group: { id: relayId, tier: String(maxConcurrency) }, ...(startAfter ? { startAfter } : {}) };
}

export interface BossOptions {
  databaseUrl: string;
  /** pg-boss's own pool; the LISTEN connection comes on top. */
  poolSize?: number;
  superviseIntervalSeconds?: number;
}

/**
 * pg-boss as the durable job store. Workers are woken by Hookyard's own delivery NOTIFY (sent
 * by the same transaction that inserts the jobs), so the queues do not add pg-boss's NOTIFY
 * on top: every NOTIFY serialises commits. Jobs of a killed worker miss their heartbeat and
 * come back within seconds because supervision runs often. pg-boss's own retries only cover
 * crashes, releases at shutdown and database errors: delivery outcomes never throw, the
 * dispatcher schedules the next try itself.
 */
export async function startBoss(options: BossOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 4,
    superviseIntervalSeconds: options.superviseIntervalSeconds ?? 5,
    monitorIntervalSeconds: options.superviseIntervalSeconds ?? 5,
    application_name: 'hookyard-boss',
  });
  boss.on('error', () => {
    // Errors surface on the calls that fail; the emitter must have a listener or Node throws.
  });
  await boss.start();
  const lane = {
    notify: false,
    heartbeatSeconds: 10,
    retryLimit: 1000,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    deleteAfterSeconds: 3600,
  };
  for (const name of [FIRST_TRY_QUEUE, RETRY_QUEUE]) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name, lane);
  }
  return boss;
}

/** pg-boss statements run on our transaction's client, so jobs commit with the rows. */
export function onClient(client: PoolClient): Db {
  return { executeSql: (text, values) => client.query(text, values as unknown[]) };
}

import { createHash } from 'node:crypto';
import { PgBoss, type Db, type JobInsert } from 'pg-boss';
import type { PoolClient } from 'pg';

/**
 * One queue for every delivery job, in two lanes by priority: first tries (1) and retries
 * (0) are fetched by separate pumps, so a backlog of retries never starves fresh work, while
 * pg-boss's per-group (per-relay) active count still spans both lanes, so a relay's
 * `maxConcurrency` is one limit, not one per lane.
 */
export const DELIVERY_QUEUE = 'delivery';
export const FIRST_TRY_PRIORITY = 1;
export const RETRY_PRIORITY = 0;

/** Every `maxConcurrency` a relay may have (1..1000) as a pg-boss tier, so no limit is ever missing. */
export const CONCURRENCY_TIERS: Record<string, number> = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i + 1), i + 1]));

export interface DeliveryJob {
  deliveryId: string;
  /** The attempt number this job performs; a job whose attempt was already recorded is a no-op. */
  attempt: number;
  /** A failed batch's retry: the job sends every delivery of the batch again, as that batch. */
  batchId?: string;
}

/**
 * A fetched job's claim: its id and the retry count pg-boss fetched it at, which fences its
 * completion to that claim (a job pg-boss handed to another worker meanwhile is left alone).
 */
export interface JobAck {
  id: string;
  retryCount: number;
}

/**
 * A delivery job, grouped by relay: pg-boss's group concurrency keeps at most the relay's
 * `maxConcurrency` of its jobs active at once, across every worker process (the tier carries
 * the limit, see delivery/lane-pump.ts).
 */
export function deliveryJob(deliveryId: string, attempt: number, relayId: string, maxConcurrency: number, retryAt?: Date, batchId?: string): JobInsert<DeliveryJob> {
  return {
    data: batchId ? { deliveryId, attempt, batchId } : { deliveryId, attempt },
    group: { id: relayId, tier: String(maxConcurrency) },
    priority: retryAt ? RETRY_PRIORITY : FIRST_TRY_PRIORITY,
    ...(retryAt ? { startAfter: retryAt } : {}),
  };
}

export interface BossOptions {
  databaseUrl: string;
  /** pg-boss's own pool; the LISTEN connection comes on top. */
  poolSize?: number;
  superviseIntervalSeconds?: number;
  /**
   * Whether this process runs pg-boss's supervision, monitoring, maintenance and cron (default
   * true). Off in the api role: it holds no job, and a worker's pass covers every job of the
   * queue, so the api's would only repeat it (README, "Processes and roles").
   */
  supervise?: boolean;
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
    supervise: options.supervise ?? true,
    schedule: options.supervise ?? true,
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
  if (!(await boss.getQueue(DELIVERY_QUEUE))) await boss.createQueue(DELIVERY_QUEUE, lane);
  return boss;
}

/** pg-boss statements run on our transaction's client, so jobs commit with the rows. */
export function onClient(client: PoolClient): Db {
  return { executeSql: (text, values) => client.query(text, values as unknown[]) };
}

/** Statement names by text (bounded: a caller could pass texts that vary). */
const names = new Map<string, string>();
const MAX_NAMES = 500;

/**
 * As `onClient`, with every statement prepared (named after a hash of its text), for the hot
 * paths whose pg-boss text never varies: the retries' job insert (a 3 KB statement: 1.65 ms of
 * PostgreSQL CPU per 32-job insert unnamed, 1.0 ms named; the worker's completions now ride in
 * its outcome statement, queue/complete-jobs.ts). Not the fetch, whose generic plan
 * is far worse than its planning. The same text has the same name on every connection, as pg
 * requires.
 */
export function preparedOnClient(client: PoolClient): Db {
  return {
    executeSql: (text, values) => {
      let name = names.get(text);
      if (name === undefined) {
        if (names.size >= MAX_NAMES) names.clear();
        name = `pgboss-${createHash('sha1').update(text).digest('base64url')}`;
        names.set(text, name);
      }
      return client.query({ name, text, values: values as unknown[] });
    },
  };
}

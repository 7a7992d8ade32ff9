/**
 * What the peer relays' jobs carry and where they wait: shared by the parent, which queues
 * the backlog (relay-drain.ts), and the peer processes that drain it. The job is the webhook
 * itself, target and body, as a relay built on a job queue would carry it: no row to look up.
 */
export interface RelayJob {
  url: string;
  body: string;
}

/** graphile-worker's task identifier for a delivery. */
export const GRAPHILE_TASK = 'relay';

/** pg-boss's queue for the deliveries. */
export const PGBOSS_QUEUE = 'relay';

/**
 * pg-boss's `work()` batching: two workers (`localConcurrency`) of 50 jobs each keep at most
 * the relays' 100 deliveries in flight, and one fetches while the other's batch still runs.
 */
export const PGBOSS_WORK = { batchSize: 50, localConcurrency: 2 } as const;

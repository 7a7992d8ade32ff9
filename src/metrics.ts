import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics, served at `/metrics`. One registry per process: counters only ever go
 * up, so several app instances in one test process simply add up.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'hookyard_' });

export const ingestRequests = new Counter({
  name: 'hookyard_ingest_requests_total',
  help: 'Ingest requests by outcome: accepted, duplicate, or the rejection code',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const rejectedLogDropped = new Counter({
  name: 'hookyard_rejected_log_dropped_total',
  help: 'Ingest refusals left out of the rejected-request log because its queue was full',
  registers: [registry],
});

export const deliveryAttempts = new Counter({
  name: 'hookyard_delivery_attempts_total',
  help: 'Delivery attempts by resulting status and error class',
  labelNames: ['status', 'error_class'] as const,
  registers: [registry],
});

export const attemptDuration = new Histogram({
  name: 'hookyard_delivery_attempt_duration_seconds',
  help: 'Duration of delivery attempts',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const liveSubscribers = new Gauge({
  name: 'hookyard_live_subscribers',
  help: 'GraphQL subscriptions open on this process',
  registers: [registry],
});

/**
 * What ingest refused the sender, by reason (an error code: a fixed set): the refusals the
 * rejected-request log records, counted before its rate-limited aggregation. A busy server
 * (503) is not a refusal; `hookyard_ingest_requests_total{outcome}` counts those too.
 */
export const ingestRejected = new Counter({
  name: 'hookyard_ingest_rejected_total',
  help: 'Ingest requests refused by reason (the error code), as the rejected-request log records them',
  labelNames: ['reason'] as const,
  registers: [registry],
});

// Read from the database at scrape time (at most every HOOKYARD_METRICS_REFRESH_SECONDS, the
// same figures on every replica): delivery/backlog-gauges.ts sets them.

export const deliveriesByStatus = new Gauge({
  name: 'hookyard_deliveries',
  help: 'Deliveries not SUCCEEDED, by status and relay (the busiest HOOKYARD_METRICS_TOP_RELAYS relays by id, the rest as relay="_other")',
  labelNames: ['status', 'relay'] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'hookyard_queue_depth',
  help: 'Delivery jobs due and waiting for a worker, by lane (first_try, retry)',
  labelNames: ['lane'] as const,
  registers: [registry],
});

export const queueOldestAge = new Gauge({
  name: 'hookyard_queue_oldest_age_seconds',
  help: 'How long the oldest due delivery job of a lane has waited since it came due (0 when none waits)',
  labelNames: ['lane'] as const,
  registers: [registry],
});

export const retriesScheduled = new Gauge({
  name: 'hookyard_retries_scheduled',
  help: 'Delivery jobs scheduled for later (retries not yet due)',
  registers: [registry],
});

export const relaysDisabled = new Gauge({
  name: 'hookyard_relays_disabled',
  help: 'Relays disabled (by an operator or by their health record)',
  registers: [registry],
});

export const backlogReadFailures = new Counter({
  name: 'hookyard_metrics_read_failures_total',
  help: 'Reads of the database figures of /metrics that failed (the previous figures stay)',
  registers: [registry],
});

export const backlogAge = new Gauge({
  name: 'hookyard_metrics_snapshot_age_seconds',
  help: 'Age of the database figures served in this scrape',
  registers: [registry],
});

// This process's connection pools, read from node-postgres at scrape time.

export const poolInUse = new Gauge({
  name: 'hookyard_db_pool_in_use',
  help: 'Connections checked out of a pool (core: ingest and workers; api: GraphQL; queue: pg-boss)',
  labelNames: ['pool'] as const,
  registers: [registry],
});

export const poolWaiting = new Gauge({
  name: 'hookyard_db_pool_waiting',
  help: 'Callers waiting for a connection of a pool',
  labelNames: ['pool'] as const,
  registers: [registry],
});

export const poolMax = new Gauge({
  name: 'hookyard_db_pool_max',
  help: 'The most connections a pool opens',
  labelNames: ['pool'] as const,
  registers: [registry],
});

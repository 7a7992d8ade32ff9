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

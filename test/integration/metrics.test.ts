import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, DisableRelayDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * `/metrics` scraped from real apps on a real database and read with a Prometheus text parser:
 * the figures read from the database, the cap on per-relay series, the pools and refusals.
 */
let databaseUrl: string;
let api: App;
let sink: Sink;
const relays: string[] = [];
/** Deliveries each relay gets: with HOOKYARD_METRICS_TOP_RELAYS=2 the last two are summed. */
const PER_RELAY = [3, 2, 1, 1];

const ENV = { HOOKYARD_METRICS_TOP_RELAYS: '2', HOOKYARD_METRICS_REFRESH_SECONDS: '1' };

async function scrape(app: App): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${app.url}/metrics`);
  expect(response.status).toBe(200);
  return new Map(parsePrometheusTextFormat(await response.text()).map((family) => [family.name, family]));
}

/** The value of the sample of `name` whose labels include `labels`; undefined when none has them. */
function sample(metrics: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = metrics.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sink = await startSink();
  sink.answer = () => ({ status: 500 });
  // The api role alone: nothing takes the jobs, so the queue holds them.
  api = await startTestApp(databaseUrl, { ...ENV, HOOKYARD_ROLE: 'api' });
  const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(api.url, document, variables, TEST_ADMIN_TOKEN);
  for (const [i, count] of PER_RELAY.entries()) {
    const created = await run(CreateRelayDocument, { input: { name: `r${i}`, url: `${sink.url}/r${i}`, retrySchedule: [3600] } });
    const id = created.data!.createRelay.relay.id;
    relays.push(id);
    await run(CreateSubscriptionDocument, { input: { relayId: id, eventTypes: [`t${i}`] } });
    for (let n = 0; n < count; n++) expect((await run(PublishEventDocument, { type: `t${i}`, payload: { n } })).errors).toBeUndefined();
  }
  await run(DisableRelayDocument, { id: relays[3]!, reason: 'metrics test' });
});

describe('/metrics', () => {
  it('reports deliveries by status for the busiest relays only, the rest summed, and the lanes, relays and pools', async () => {
    const metrics = await waitUntil(async () => {
      const m = await scrape(api);
      return sample(m, 'hookyard_deliveries', { relay: '_other', status: 'HELD' }) === 1 ? m : undefined;
    }, 20_000, 'the held delivery to show');

    const series = metrics.get('hookyard_deliveries')!;
    expect(series.type).toBe('GAUGE');
    // Two relays by id and `_other`: never one series per relay.
    expect(new Set(series.metrics.map((m) => m.labels!.relay))).toEqual(new Set([relays[0], relays[1], '_other']));
    expect(sample(metrics, 'hookyard_deliveries', { relay: relays[0]!, status: 'PENDING' })).toBe(3);
    expect(sample(metrics, 'hookyard_deliveries', { relay: relays[1]!, status: 'PENDING' })).toBe(2);
    expect(sample(metrics, 'hookyard_deliveries', { relay: '_other', status: 'PENDING' })).toBe(1);

    // Every published delivery has its first-try job waiting (the held one's too, until a worker skips it).
    expect(sample(metrics, 'hookyard_queue_depth', { lane: 'first_try' })).toBeGreaterThanOrEqual(6);
    expect(sample(metrics, 'hookyard_queue_depth', { lane: 'retry' })).toBe(0);
    expect(sample(metrics, 'hookyard_queue_oldest_age_seconds', { lane: 'first_try' })).toBeGreaterThan(0);
    expect(sample(metrics, 'hookyard_queue_oldest_age_seconds', { lane: 'retry' })).toBe(0);
    expect(sample(metrics, 'hookyard_retries_scheduled')).toBe(0);
    expect(sample(metrics, 'hookyard_relays_disabled')).toBe(1);
    expect(sample(metrics, 'hookyard_metrics_snapshot_age_seconds')).toBeGreaterThanOrEqual(0);

    for (const pool of ['core', 'api', 'queue']) {
      expect(sample(metrics, 'hookyard_db_pool_max', { pool })).toBeGreaterThan(0);
      expect(sample(metrics, 'hookyard_db_pool_in_use', { pool })).toBeGreaterThanOrEqual(0);
      expect(sample(metrics, 'hookyard_db_pool_waiting', { pool })).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts retries scheduled once a worker has tried the deliveries', async () => {
    await startTestApp(databaseUrl, { ...ENV, HOOKYARD_ROLE: 'worker' });
    // Each of the six enabled relays' deliveries fails once (500) and waits an hour for its retry.
    const metrics = await waitUntil(async () => {
      const m = await scrape(api);
      return sample(m, 'hookyard_retries_scheduled') === 6 ? m : undefined;
    }, 30_000, 'six retries to be scheduled');
    expect(sample(metrics, 'hookyard_deliveries', { relay: relays[0]!, status: 'RETRYING' })).toBe(3);
    expect(sample(metrics, 'hookyard_deliveries', { relay: '_other', status: 'RETRYING' })).toBe(1);
    expect(sample(metrics, 'hookyard_deliveries', { relay: relays[0]!, status: 'PENDING' })).toBeUndefined();
    expect(sample(metrics, 'hookyard_queue_depth', { lane: 'first_try' })).toBe(0);
  });

  it('counts ingest refusals by reason', async () => {
    const response = await fetch(`${api.url}/ingest/no-such-source`, { method: 'POST', body: '{}' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const { error } = (await response.json()) as { error: { code: string } };
    const metrics = await scrape(api);
    expect(sample(metrics, 'hookyard_ingest_rejected_total', { reason: error.code })).toBeGreaterThanOrEqual(1);
    expect(metrics.get('hookyard_ingest_rejected_total')!.type).toBe('COUNTER');
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { spawnHookyard, type HookyardProcess } from '../helpers/process.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * Graceful shutdown of a worker process (real SIGTERM): in-flight deliveries may finish within
 * HOOKYARD_SHUTDOWN_SECONDS; the rest are released back to the queue, never left DELIVERING, and
 * another worker delivers them. A released request that may have reached the receiver is in the
 * attempt log as INTERRUPTED; one that never left leaves no attempt.
 */

let databaseUrl: string;
let api: App;
const sinks: Sink[] = [];
const spawned: HookyardProcess[] = [];
const dataDirs: string[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  // An API replica in this process: it publishes, only the spawned workers deliver.
  api = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
});

afterAll(async () => {
  // Every worker should have exited already; SIGKILL is the last resort for one that did not.
  for (const proc of spawned) proc.kill9();
  await Promise.all(sinks.map((sink) => sink.close()));
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function gql<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  const result = await execute(api.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function sinkWithRelay(prefix: string, timeoutMs: number): Promise<Sink> {
  const sink = await startSink();
  sinks.push(sink);
  const { createRelay } = await gql(CreateRelayDocument, { input: { name: prefix, url: `${sink.url}/${prefix}`, timeoutMs } });
  await gql(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, eventTypes: [`${prefix}.*`] } });
  return sink;
}

async function spawnWorker(shutdownSeconds: string): Promise<HookyardProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hookyard-shutdown-'));
  dataDirs.push(dataDir);
  const proc = await spawnHookyard({
    DATABASE_URL: databaseUrl,
    HOOKYARD_ROLE: 'worker',
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true',
    HOOKYARD_SHUTDOWN_SECONDS: shutdownSeconds,
    LOG_LEVEL: 'warn',
  });
  spawned.push(proc);
  return proc;
}

/** SIGTERM, then the exit code and how long the process took to exit. */
async function terminate(proc: HookyardProcess, limitMs = 30_000): Promise<{ code: number | null | 'hung'; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([proc.stop(), new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), limitMs)))]);
  clearTimeout(timer);
  if (code === 'hung') proc.kill9();
  return { code, ms: Date.now() - started };
}

async function deliveryOf(eventId: string): Promise<{ id: string; status: string; attemptCount: number; attempts: { number: number; status: number | null; error: string | null }[] }> {
  const { rows } = await api.pool.query<{ id: string; status: string; attemptCount: number }>('select id, status, attempt_count as "attemptCount" from delivery where event_id = $1', [eventId]);
  expect(rows).toHaveLength(1);
  const attempts = await api.pool.query<{ number: number; status: number | null; error: string | null }>(
    'select number, response_status as status, error_class as error from attempt where delivery_id = $1 order by number',
    [rows[0]!.id],
  );
  return { ...rows[0]!, attempts: attempts.rows };
}

async function waitForStatus(eventId: string, status: string, timeoutMs: number): Promise<void> {
  await waitUntil(async () => ((await deliveryOf(eventId)).status === status ? true : undefined), timeoutMs, `delivery of ${eventId} ${status}`);
}

describe('SIGTERM while a delivery is in flight', () => {
  it('records a request cut short by the shutdown as INTERRUPTED, releases the ones not sent yet, and the next worker delivers them all', async () => {
    const sink = await startSink();
    sinks.push(sink);
    // One request a second: the first leaves at once, the others wait their turn inside the worker.
    const { createRelay } = await gql(CreateRelayDocument, { input: { name: 'held', url: `${sink.url}/held`, timeoutMs: 90_000, rateLimitPerSecond: 1 } });
    await gql(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, eventTypes: ['held.*'] } });
    // Requests hang for a minute until the first worker is gone; the receiver answers at once after that.
    let hang = true;
    sink.answer = () => (hang ? { status: 200, delayMs: 60_000 } : { status: 200 });
    const first = await spawnWorker('2');
    const eventIds: string[] = [];
    for (let n = 0; n < 8; n++) eventIds.push((await gql(PublishEventDocument, { type: 'held.tick', payload: { n } })).publishEvent.id);
    await sink.waitFor(1, 15_000);
    await waitUntil(async () => {
      const states = await Promise.all(eventIds.map(async (id) => (await deliveryOf(id)).status));
      return states.every((state) => state === 'DELIVERING') ? true : undefined;
    }, 15_000, 'every delivery claimed');

    const { code, ms } = await terminate(first);
    expect(code).toBe(0);
    // It gave the requests their 2 s allowance, then aborted them.
    expect(ms).toBeGreaterThanOrEqual(1_800);
    expect(ms).toBeLessThan(10_000);
    hang = false;
    const receipts = (deliveryId: string) => sink.received.filter((r) => r.headers['hookyard-delivery-id'] === deliveryId);
    const released = await Promise.all(eventIds.map(deliveryOf));
    const sent = released.filter((d) => receipts(d.id).length > 0);
    const unsent = released.filter((d) => receipts(d.id).length === 0);
    // Some left (the receiver holds them), some were still waiting for the rate limit.
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(unsent.length).toBeGreaterThanOrEqual(1);
    for (const d of sent) {
      // The request may have reached the receiver: it is in the log, and the delivery goes on.
      expect(d.attempts).toEqual([{ number: 1, status: null, error: 'INTERRUPTED' }]);
      expect(d.status).toBe('RETRYING');
    }
    for (const d of unsent) {
      // Nothing left: back to PENDING, and the aborted try leaves no row.
      expect(d.attempts).toEqual([]);
      expect(d.status).toBe('PENDING');
    }

    await api.pool.query('update relay set rate_limit_per_second = null where id = $1', [createRelay.relay.id]);
    const second = await spawnWorker('2');
    for (const id of eventIds) await waitForStatus(id, 'SUCCEEDED', 30_000);
    for (const id of eventIds) {
      const delivered = await deliveryOf(id);
      const seen = receipts(delivered.id);
      expect(seen.map((r) => r.headers['webhook-id'])).toEqual(seen.map(() => id));
      // Every request the receiver saw is an attempt in the log, and only those.
      expect(delivered.attempts).toHaveLength(seen.length);
      expect(delivered.attemptCount).toBe(seen.length);
      expect(delivered.attempts).toEqual(
        sent.some((d) => d.id === delivered.id)
          ? [{ number: 1, status: null, error: 'INTERRUPTED' }, { number: 2, status: 200, error: null }]
          : [{ number: 1, status: 200, error: null }],
      );
    }
    expect((await terminate(second)).code).toBe(0);
  });

  it('lets a delivery that answers within HOOKYARD_SHUTDOWN_SECONDS finish before exiting', async () => {
    const sink = await sinkWithRelay('brief', 15_000);
    sink.answer = () => ({ status: 200, delayMs: 1_000 });
    const worker = await spawnWorker('10');
    const eventId = (await gql(PublishEventDocument, { type: 'brief.tick', payload: { n: 2 } })).publishEvent.id;
    await sink.waitFor(1, 15_000);
    expect((await deliveryOf(eventId)).status).toBe('DELIVERING');

    const { code, ms } = await terminate(worker);
    expect(code).toBe(0);
    // It waited for the answer (about 1 s), not for the whole 10 s allowance.
    expect(ms).toBeLessThan(8_000);
    const delivered = await deliveryOf(eventId);
    expect(delivered.status).toBe('SUCCEEDED');
    expect(delivered.attempts).toEqual([{ number: 1, status: 200, error: null }]);
    expect(sink.received).toHaveLength(1);
  });
});

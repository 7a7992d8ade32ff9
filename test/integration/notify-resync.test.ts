import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { NotifyBus } from '../../src/db/notify/notify-bus.js';
import { SourceCache } from '../../src/sources/source-cache.js';
import { CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * A notification sent while a LISTEN connection is down is lost: each consumer that keeps
 * state reloads it after the reconnect. The token recheck and the live feeds are held to that
 * in token-lifecycle.test.ts and live-resume.test.ts; the source cache and the worker lanes
 * here. Each test loses its notification on purpose (a change made without one), so only the
 * resync can bring the consumer up to date within the test's time.
 */
let app: App;
let sink: Sink;
let db: pg.Pool;
let bus: NotifyBus;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  // The retry lane's own poll, at its longest, is far beyond what the test waits.
  app = await startTestApp(databaseUrl, { HOOKYARD_RETRY_POLL_SECONDS: '60' });
  sink = await startSink();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  bus = new NotifyBus({ connectionString: databaseUrl });
  await bus.start();
});

afterAll(async () => {
  await bus.stop();
  await sink.close();
  await db.end();
});

async function admin<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V): Promise<T> {
  const result = await execute(app.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function newSource(slug: string, retrySchedule: number[] = [1]): Promise<void> {
  const { createSource } = await admin(CreateSourceDocument, { input: { name: slug, slug, preset: 'HMAC', secret: slug } });
  const { createRelay } = await admin(CreateRelayDocument, { input: { name: slug, url: `${sink.url}/${slug}`, retrySchedule } });
  await admin(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, sourceIds: [createSource.id], eventTypes: ['*'] } });
}

/** Ends every LISTEN connection of this database: the app's and this file's bus. */
async function dropListeners(): Promise<void> {
  const { rowCount } = await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hookyard-notify-bus' and datname = current_database()`);
  expect(rowCount).toBe(2);
}

describe('after a reconnect of the LISTEN connection', () => {
  it('the source cache drops what it holds, and the retry lane looks for due retries at once', async () => {
    await newSource('resync');
    const received = () => sink.received.length;
    sink.answer = (index) => ({ status: index === 0 ? 500 : 200 });

    const body = JSON.stringify({ n: 1 });
    const response = await fetch(`${app.url}/ingest/resync`, { method: 'POST', headers: { 'x-signature': createHmac('sha256', 'resync').update(body).digest('hex') }, body });
    expect(response.status).toBe(200);
    await waitUntil(() => (received() === 1 ? true : undefined), 20_000, 'the first try');
    // The retry is due after 1 s; the retry lane will not poll again for a minute.
    await waitUntil(async () => {
      const { rows } = await db.query(`select 1 from delivery where status = 'RETRYING' and next_attempt_at < now() - interval '200 milliseconds'`);
      return rows.length === 1 ? true : undefined;
    }, 20_000, 'the retry to come due');

    // A cache with a frozen clock: only a drop makes it look the source up again.
    const cache = new SourceCache(app.pool, app.keyring);
    cache.listen(bus);
    const now = new Date();
    expect(await cache.find('resync', now)).toBeDefined();
    // Renamed without the announcement the API would send: as if it had been lost.
    await db.query(`update source set slug = 'resync-renamed' where slug = 'resync'`);
    expect(await cache.find('resync', now)).toBeDefined();

    const dropped = Date.now();
    await dropListeners();
    await waitUntil(async () => ((await cache.find('resync', now)) === undefined ? true : undefined), 20_000, 'the cache to drop the renamed source');
    await waitUntil(() => (received() === 2 ? true : undefined), 20_000, 'the retry after the reconnect');
    expect(Date.now() - dropped).toBeLessThan(30_000);
    cache.stop();
  });
});

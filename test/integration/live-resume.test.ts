import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeliveryUpdatedDocument, EventReceivedDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

let api: App;
let sink: Sink;
let db: pg.Pool;
const auth = `Bearer ${TEST_ADMIN_TOKEN}`;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  // Split roles: statuses reach the api only through PostgreSQL, as across machines.
  api = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'worker' });
  sink = await startSink();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
});

afterAll(async () => {
  await sink.close();
  await db.end();
});

async function admin<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V): Promise<T> {
  const result = await execute(api.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/** A source whose events go to one relay at the sink, with 1 s between tries. */
async function setUp(slug: string): Promise<{ relayId: string; sourceId: string }> {
  const { createSource } = await admin(CreateSourceDocument, { input: { name: slug, slug, preset: 'HMAC', secret: slug } });
  const { createRelay } = await admin(CreateRelayDocument, { input: { name: slug, url: `${sink.url}/${slug}`, retrySchedule: [1, 1] } });
  await admin(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, sourceIds: [createSource.id], eventTypes: ['*'] } });
  return { relayId: createRelay.relay.id, sourceId: createSource.id };
}

/** The receiver at `/<slug>` answers 500 `failures` times, then 200. */
function failFirst(slug: string, failures: number): void {
  const previous = sink.answer;
  let calls = 0;
  sink.answer = (index, request) => (request.url === `/${slug}` ? { status: calls++ < failures ? 500 : 200 } : previous(index, request));
}

async function send(slug: string, payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${api.url}/ingest/${slug}`, { method: 'POST', headers: { 'x-signature': createHmac('sha256', slug).update(body).digest('hex') }, body });
  expect(response.status).toBe(200);
}

async function statusOf(relayId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>('select status from delivery where relay_id = $1', [relayId]);
  return rows[0]?.status;
}

const EVERY_STATUS = ['PENDING:0', 'DELIVERING:0', 'RETRYING:1', 'DELIVERING:1', 'RETRYING:2', 'DELIVERING:2', 'SUCCEEDED:3'];

describe('deliveryUpdated misses nothing', () => {
  it('statuses committed while the api LISTEN connection is down reach the subscriber after the reconnect, in order', async () => {
    const { relayId } = await setUp('listen-down');
    failFirst('listen-down', 2);
    const live = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId } }, auth);
    await waitUntil(() => (api.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription');

    // Keep the LISTEN connections of this database down while the delivery runs its course:
    // every NOTIFY of the whole run is sent while no one (or almost no one) listens.
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        const { rowCount } = await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hookyard-notify-bus' and datname = current_database()`);
        kills += rowCount ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitUntil(() => (kills > 0 ? true : undefined), 10_000, 'the LISTEN connection killed');
    await send('listen-down', { n: 1 });
    await waitUntil(async () => ((await statusOf(relayId)) === 'SUCCEEDED' ? true : undefined), 30_000, 'the delivery to succeed');
    killing = false;
    await killer;

    await waitUntil(() => (live.results.at(-1)?.deliveryUpdated.status === 'SUCCEEDED' ? true : undefined), 20_000,
      `SUCCEEDED on the feed after the reconnect (got ${live.results.map((r) => r.deliveryUpdated.status).join(' ')})`);
    expect(live.results.map((r) => `${r.deliveryUpdated.status}:${r.deliveryUpdated.attemptCount}`)).toEqual(EVERY_STATUS);
    await live.dispose();
  });

  it('a client that resumes with the last cursor it received gets every later status once, in order', async () => {
    const { relayId } = await setUp('ws-drop');
    failFirst('ws-drop', 2);
    const first = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId } }, auth);
    await waitUntil(() => (api.liveSubscribers() === 1 ? true : undefined), 10_000, 'the first subscription');
    await send('ws-drop', { n: 2 });
    await waitUntil(() => (first.results.length >= 2 ? true : undefined), 10_000, 'two statuses on the first socket');
    await first.dispose();
    const seen = first.results.map((r) => `${r.deliveryUpdated.status}:${r.deliveryUpdated.attemptCount}`);
    const cursor = first.results.at(-1)!.deliveryUpdated.feedCursor;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);

    // Resumed while the delivery is still on its way: the seam between the stored changes and
    // the live ones must neither repeat nor skip one.
    const resumed = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId }, after: cursor }, auth);
    await waitUntil(() => (resumed.results.at(-1)?.deliveryUpdated.status === 'SUCCEEDED' ? true : undefined), 20_000,
      `SUCCEEDED on the resumed feed (got ${resumed.results.map((r) => r.deliveryUpdated.status).join(' ')})`);
    expect([...seen, ...resumed.results.map((r) => `${r.deliveryUpdated.status}:${r.deliveryUpdated.attemptCount}`)]).toEqual(EVERY_STATUS);

    // From a cursor of the first socket's first item, after the fact: the whole rest, from storage.
    const again = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId }, after: first.results[0]!.deliveryUpdated.feedCursor }, auth);
    await waitUntil(() => (again.results.length >= EVERY_STATUS.length - 1 ? true : undefined), 10_000, 'the replay');
    expect(again.results.map((r) => `${r.deliveryUpdated.status}:${r.deliveryUpdated.attemptCount}`)).toEqual(EVERY_STATUS.slice(1));
    await resumed.dispose();
    await again.dispose();
  });

  it.each([
    ['not base64url of a cursor', 'garbage!'],
    ['a cursor of another feed', Buffer.from('event:1').toString('base64url')],
    ['a cursor from the future', Buffer.from('delivery:999999999').toString('base64url')],
  ])('refuses %s as BAD_USER_INPUT naming after', async (_what, after) => {
    const live = subscribe(api.url, DeliveryUpdatedDocument, { after }, auth);
    await waitUntil(() => (live.errors.length > 0 ? true : undefined), 10_000, 'the refusal');
    expect(JSON.stringify(live.errors)).toContain('BAD_USER_INPUT');
    expect(JSON.stringify(live.errors)).toContain('after');
    await live.dispose();
  });

  it('refuses a cursor whose changes retention has deleted', async () => {
    const { rows } = await db.query<{ seq: string }>('select max(seq)::text as seq from delivery_change');
    const old = Buffer.from(`delivery:${Number(rows[0]!.seq) - 2}`).toString('base64url');
    await db.query(`insert into live_log_horizon (log, pruned_through) values ('delivery', $1) on conflict (log) do update set pruned_through = excluded.pruned_through`, [Number(rows[0]!.seq) - 1]);
    const live = subscribe(api.url, DeliveryUpdatedDocument, { after: old }, auth);
    await waitUntil(() => (live.errors.length > 0 ? true : undefined), 10_000, 'the refusal');
    expect(JSON.stringify(live.errors)).toMatch(/BAD_USER_INPUT.*|after/);
    expect(JSON.stringify(live.errors)).toContain('expired');
    await live.dispose();
    await db.query(`delete from live_log_horizon`);
  });
});

describe('eventReceived misses nothing', () => {
  it('resumes from a cursor with the events accepted while the client was away, once each', async () => {
    const { sourceId } = await setUp('ev-drop');
    const first = subscribe(api.url, EventReceivedDocument, { sourceId }, auth);
    await waitUntil(() => (api.liveSubscribers() === 1 ? true : undefined), 10_000, 'the first subscription');
    await send('ev-drop', { n: 1 });
    await waitUntil(() => (first.results.length === 1 ? true : undefined), 10_000, 'the first event');
    await first.dispose();
    await send('ev-drop', { n: 2 });
    await send('ev-drop', { n: 3 });
    const resumed = subscribe(api.url, EventReceivedDocument, { sourceId, after: first.results[0]!.eventReceived.feedCursor }, auth);
    await waitUntil(() => (resumed.results.length >= 2 ? true : undefined), 10_000, 'the two missed events');
    await send('ev-drop', { n: 4 });
    await waitUntil(() => (resumed.results.length >= 3 ? true : undefined), 10_000, 'the live one after them');
    expect(resumed.results.map((r) => (r.eventReceived.payload as { n: number }).n)).toEqual([2, 3, 4]);
    await resumed.dispose();
  });
});

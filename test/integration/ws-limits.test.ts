import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../../src/app.js';
import { CreateApiTokenDocument, CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';

const SOCKETS_PER_ADDRESS = 6;
const SUBSCRIPTIONS_PER_SOCKET = 25;
const SUBSCRIPTIONS_PER_TOKEN = 30;
const MAX_BUFFERED_BYTES = 256 * 1024;

let app: App;
/** Every pino line the app wrote, parsed. */
const logLines: { msg?: string; level: number }[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as { msg?: string; level: number });
      callback();
    },
  });
  app = await startTestApp(
    await createTestDatabase(),
    {
      HOOKYARD_ROLE: 'api',
      HOOKYARD_WS_SOCKETS_PER_ADDRESS: String(SOCKETS_PER_ADDRESS),
      HOOKYARD_WS_SUBSCRIPTIONS_PER_SOCKET: String(SUBSCRIPTIONS_PER_SOCKET),
      HOOKYARD_WS_SUBSCRIPTIONS_PER_TOKEN: String(SUBSCRIPTIONS_PER_TOKEN),
      HOOKYARD_WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
      LOG_LEVEL: 'info',
    },
    {},
    sink,
  );
  await execute(app.url, CreateSourceDocument, { input: { name: 'ws', slug: 'ws', preset: 'HMAC', secret: 'ws' } }, TEST_ADMIN_TOKEN);
});

const sockets: WebSocket[] = [];

afterEach(async () => {
  // Every socket of a test is closed (and seen closed) before the next test counts sockets.
  await Promise.all(sockets.splice(0).map((ws) => closeAndWait(ws)));
  await waitUntil(() => (app.liveSubscribers() === 0 ? true : undefined), 10_000, 'no live subscribers left');
});

function closeAndWait(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.resume();
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  });
}

interface RawSocket {
  ws: WebSocket;
  /** true once connection_ack arrived, false if the socket closed first. */
  acked: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
  /** Every graphql-ws message received. */
  messages: { id?: string; type: string; payload?: unknown }[];
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
}

/** graphql-transport-ws spoken by hand, so a test can pause reading or send what it likes. */
function open(authorization: string | undefined): RawSocket {
  const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  sockets.push(ws);
  const messages: RawSocket['messages'] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  const acked = new Promise<boolean>((resolve) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: authorization === undefined ? {} : { authorization } })));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as RawSocket['messages'][number];
      messages.push(message);
      if (message.type === 'connection_ack') resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  ws.on('error', () => {});
  return {
    ws, acked, closed, messages,
    subscribe: (id, query, variables = {}) => ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
  };
}

/** The promise's value, or a failure naming what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

function ingest(body: string): Promise<Response> {
  return fetch(`${app.url}/ingest/ws`, { method: 'POST', headers: { 'x-signature': createHmac('sha256', 'ws').update(body).digest('hex') }, body });
}

async function readToken(name: string): Promise<string> {
  const created = await execute(app.url, CreateApiTokenDocument, { input: { name, scope: 'READ' } }, TEST_ADMIN_TOKEN);
  return created.data!.createApiToken.token;
}

const EVENT_RECEIVED = 'subscription { eventReceived { id body } }';

describe('websocket caps', () => {
  it(`refuses socket ${SOCKETS_PER_ADDRESS + 1} from one address with 4429`, async () => {
    const accepted = Array.from({ length: SOCKETS_PER_ADDRESS }, () => open(`Bearer ${TEST_ADMIN_TOKEN}`));
    expect(await Promise.all(accepted.map((s) => s.acked))).toEqual(Array(SOCKETS_PER_ADDRESS).fill(true));
    const refused = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(await within(refused.closed, 10_000, 'the refusal')).toEqual({ code: 4429, reason: expect.stringMatching(/too many sockets/i) });
    // A closed socket frees its place.
    await closeAndWait(accepted[0]!.ws);
    await waitUntil(async () => {
      const again = open(`Bearer ${TEST_ADMIN_TOKEN}`);
      if (await again.acked) return true;
      return undefined;
    }, 10_000, 'a socket accepted again once one closed');
  });

  it('refuses a subscription past the per-socket and the per-token cap with SUBSCRIPTION_LIMIT', async () => {
    const token = `Bearer ${await readToken('caps')}`;
    const first = open(token);
    expect(await first.acked).toBe(true);
    for (let i = 1; i <= SUBSCRIPTIONS_PER_SOCKET; i++) first.subscribe(String(i), EVENT_RECEIVED);
    await waitUntil(() => (app.liveSubscribers() === SUBSCRIPTIONS_PER_SOCKET ? true : undefined), 10_000, 'the first socket\'s subscriptions');
    first.subscribe('over-socket', EVENT_RECEIVED);
    const perSocket = await waitUntil(() => first.messages.find((m) => m.id === 'over-socket'), 10_000, 'the refusal on the first socket');
    expect(perSocket).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'SUBSCRIPTION_LIMIT' } }] });

    const second = open(token);
    expect(await second.acked).toBe(true);
    const room = SUBSCRIPTIONS_PER_TOKEN - SUBSCRIPTIONS_PER_SOCKET;
    for (let i = 1; i <= room; i++) second.subscribe(String(i), EVENT_RECEIVED);
    await waitUntil(() => (app.liveSubscribers() === SUBSCRIPTIONS_PER_TOKEN ? true : undefined), 10_000, 'the second socket\'s subscriptions');
    second.subscribe('over-token', EVENT_RECEIVED);
    const perToken = await waitUntil(() => second.messages.find((m) => m.id === 'over-token'), 10_000, 'the refusal on the second socket');
    expect(perToken).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'SUBSCRIPTION_LIMIT' } }] });

    // Another token is not affected, and both sockets stay open.
    const other = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(await other.acked).toBe(true);
    other.subscribe('1', EVENT_RECEIVED);
    await waitUntil(() => (app.liveSubscribers() === SUBSCRIPTIONS_PER_TOKEN + 1 ? true : undefined), 10_000, 'another token\'s subscription');
    expect([first.ws.readyState, second.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
  });

  it('closes a socket sending a 2 MiB frame with 1009, without holding the frames in memory', async () => {
    const frame = Buffer.alloc(2 * 1024 * 1024, 'a');
    const before = process.memoryUsage().heapUsed;
    const frames = 4;
    const attempts = Array.from({ length: frames }, () => {
      const ws = new WebSocket(`${app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      sockets.push(ws);
      ws.on('error', () => {});
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.once('open', () => ws.send(frame));
      return closed;
    });
    expect(await Promise.all(attempts)).toEqual(Array(frames).fill(1009));
    // 8 MiB went out at once; the server kept none of it (the clients' copies share one buffer).
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan((frames * frame.length) / 2);
  });
});

describe('a consumer that stops reading', () => {
  it('is closed once its send buffer passes the threshold, logged once, never per notification', async () => {
    const slow = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(await slow.acked).toBe(true);
    for (let i = 1; i <= 20; i++) slow.subscribe(String(i), EVENT_RECEIVED);
    const watcher = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(await watcher.acked).toBe(true);
    watcher.subscribe('w', 'subscription { eventReceived { id } }');
    await waitUntil(() => (app.liveSubscribers() === 21 ? true : undefined), 10_000, 'the subscriptions');
    slow.ws.pause();

    const body = 'x'.repeat(400 * 1024);
    const slowClosing = () => logLines.filter((l) => /not reading/i.test(l.msg ?? '')).length;
    for (let n = 0; slowClosing() === 0; n++) {
      expect(n, 'the server never closed the paused socket').toBeLessThan(40);
      expect((await ingest(body)).status).toBe(200);
      const seen = n + 1;
      await waitUntil(() => (watcher.messages.filter((m) => m.type === 'next').length >= seen ? true : undefined), 10_000, 'the watcher\'s event');
    }
    // More notifications after the close: no more log lines for them.
    const linesAfterClose = logLines.length;
    const nextsBefore = watcher.messages.filter((m) => m.type === 'next').length;
    for (let n = 0; n < 5; n++) expect((await ingest(`{"n":${n}}`)).status).toBe(200);
    await waitUntil(() => (watcher.messages.filter((m) => m.type === 'next').length >= nextsBefore + 5 ? true : undefined), 10_000, 'the watcher\'s later events');
    expect(slowClosing()).toBe(1);
    expect(logLines.length - linesAfterClose).toBeLessThan(5);

    slow.ws.resume();
    expect(await slow.closed).toEqual({ code: 1008, reason: expect.stringMatching(/not reading/i) });
    expect(watcher.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('event loads', () => {
  it('load an event once per notification, shared by every subscriber of the process', async () => {
    const relay = await execute(app.url, CreateRelayDocument, { input: { name: 'r', url: 'http://127.0.0.1:9/hook' } }, TEST_ADMIN_TOKEN);
    await execute(app.url, CreateSubscriptionDocument, { input: { relayId: relay.data!.createRelay.relay.id, eventTypes: ['*'] } }, TEST_ADMIN_TOKEN);
    const events = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    const deliveries = open(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(await Promise.all([events.acked, deliveries.acked])).toEqual([true, true]);
    const n = 5;
    for (let i = 1; i <= n; i++) {
      events.subscribe(String(i), EVENT_RECEIVED);
      deliveries.subscribe(String(i), 'subscription { deliveryUpdated { id status event { id body } } }');
    }
    await waitUntil(() => (app.liveSubscribers() === 2 * n ? true : undefined), 10_000, 'the subscriptions');

    const query = vi.spyOn(app.apiPool, 'query');
    try {
      expect((await ingest('{"shared":true}')).status).toBe(200);
      const nexts = (s: typeof events) => s.messages.filter((m) => m.type === 'next');
      await waitUntil(() => (nexts(events).length === n && nexts(deliveries).length === n ? true : undefined), 10_000, 'every subscriber\'s result');
      for (const m of [...nexts(events), ...nexts(deliveries)]) expect(JSON.stringify(m.payload)).toContain('{\\"shared\\":true}');
      const eventLoads = query.mock.calls.filter(([sql]) => typeof sql === 'string' && /from event e where e\.id/i.test(sql));
      expect(eventLoads).toHaveLength(1);
    } finally {
      query.mockRestore();
    }
  });
});

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * Hostile receivers (issue 11, DESIGN.md "Outbound delivery"): raw servers on 127.0.0.1 that
 * misbehave at the socket level, all at once and next to a healthy relay. Each attempt ends as
 * stated within the relay's timeout, memory stays bounded, and the healthy relay is delivered
 * promptly meanwhile. Plainer error classes (a 500, a slow answer, a refused port, TLS) are in
 * delivery-errors.test.ts.
 */

/** Every hostile relay's timeoutMs: long enough for the healthy relay to finish well inside it. */
const TIMEOUT_MS = 4_000;
const MIB = 1024 * 1024;

let app: App;
let healthy: Sink;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  healthy = await startSink();
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all([healthy.close(), ...servers.map((server) => new Promise((done) => server.close(done)))]);
});

/** What one raw receiver saw of its connections. */
interface Seen {
  connections: number;
  /** Bytes it managed to write (its writes stall when we stop reading). */
  written: number;
  /** When the first connection's socket ended or closed on our side (ms since epoch). */
  closedAt?: number;
}

/** A raw TCP receiver; `onRequest` runs once per connection, at the first bytes of the request. */
async function rawReceiver(onRequest: (socket: Socket, seen: Seen) => void): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { connections: 0, written: 0 };
  const server = createServer((socket) => {
    sockets.add(socket);
    seen.connections++;
    socket.on('error', () => {});
    const closed = () => (seen.closedAt ??= Date.now());
    socket.on('end', closed);
    socket.on('close', closed);
    socket.once('data', () => onRequest(socket, seen));
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen };
}

let relays = 0;
async function relayTo(url: string, timeoutMs: number): Promise<string> {
  const eventType = `hostile.case${++relays}`;
  // A long first retry step: each case is about its first attempt only.
  const created = await execute(app.url, CreateRelayDocument, { input: { name: eventType, url, timeoutMs, retrySchedule: [600] } }, TEST_ADMIN_TOKEN);
  expect(created.errors).toBeUndefined();
  const relayId = created.data!.createRelay.relay.id;
  expect((await execute(app.url, CreateSubscriptionDocument, { input: { relayId, eventTypes: [eventType] } }, TEST_ADMIN_TOKEN)).errors).toBeUndefined();
  return eventType;
}

async function publish(eventType: string): Promise<string> {
  const published = await execute(app.url, PublishEventDocument, { type: eventType, payload: { case: eventType } }, TEST_ADMIN_TOKEN);
  expect(published.errors).toBeUndefined();
  const { rows } = await app.pool.query<{ id: string }>('select id from delivery where event_id = $1', [published.data!.publishEvent.id]);
  return rows[0]!.id;
}

interface FirstAttempt {
  status: string;
  error_class: string | null;
  error_message: string | null;
  response_status: number | null;
  response_body_excerpt: string | null;
  duration_ms: number;
}

async function firstAttempt(deliveryId: string): Promise<FirstAttempt> {
  return waitUntil(async () => {
    const { rows } = await app.pool.query<FirstAttempt>(
      `select d.status, a.error_class, a.error_message, a.response_status, a.response_body_excerpt, a.duration_ms
       from attempt a join delivery d on d.id = a.delivery_id where a.delivery_id = $1 and a.number = 1`,
      [deliveryId],
    );
    return rows[0];
  }, TIMEOUT_MS + 20_000, `the first attempt of ${deliveryId}`);
}

describe('hostile receivers, all at once, next to a healthy relay', () => {
  it('each ends as stated within the relay timeout, and the healthy relay is delivered meanwhile', async () => {
    // Never answers: reads the request, writes nothing.
    const silent = await rawReceiver(() => {});

    // Answers 200, then trickles its body a byte a second.
    const trickle = await rawReceiver((socket, seen) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n');
      let n = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write('abcdefghijklmnopqrstuvwxyz'[n++ % 26]!);
        seen.written++;
      }, 1_000);
      socket.on('close', () => clearInterval(timer));
    });

    // Answers 200 with a 100 MiB body, written as fast as the reader takes it.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('start-of-body:');
    const rest = Buffer.alloc(64 * 1024, 'y');
    const huge = await rawReceiver((socket, seen) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${100 * MIB}\r\n\r\n`);
      const pump = () => {
        while (!socket.destroyed && seen.written < 100 * MIB) {
          seen.written += chunk.length;
          if (!socket.write(seen.written === chunk.length ? chunk : rest)) return void socket.once('drain', pump);
        }
      };
      pump();
    });

    // Resets the connection (RST) before any status line.
    const reset = await rawReceiver((socket) => socket.resetAndDestroy());

    // Redirects to a private address (the healthy sink's, on loopback).
    const redirect = await rawReceiver((socket) => {
      socket.write(`HTTP/1.1 302 Found\r\nLocation: ${healthy.url}/redirected\r\nContent-Length: 0\r\n\r\n`);
    });

    // A complete answer, then the socket held open, asking to be kept for ten minutes.
    const linger = await rawReceiver((socket, seen) => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=600\r\nContent-Length: 2\r\n\r\nok');
    });

    const rssBefore = process.memoryUsage().rss;
    const hostile = {
      silent: await publish(await relayTo(silent.url, TIMEOUT_MS)),
      trickle: await publish(await relayTo(trickle.url, TIMEOUT_MS)),
      huge: await publish(await relayTo(huge.url, TIMEOUT_MS)),
      reset: await publish(await relayTo(reset.url, TIMEOUT_MS)),
      redirect: await publish(await relayTo(redirect.url, TIMEOUT_MS)),
      linger: await publish(await relayTo(linger.url, TIMEOUT_MS)),
    };

    // The healthy relay, while the silent and trickling receivers hold their requests.
    await waitUntil(() => (silent.seen.connections > 0 && trickle.seen.written > 0 ? true : undefined), TIMEOUT_MS, 'the silent and trickling receivers to hold requests');
    const healthyType = await relayTo(`${healthy.url}/healthy`, 30_000);
    const healthyIds = await Promise.all(Array.from({ length: 10 }, () => publish(healthyType)));
    await waitUntil(async () => {
      const { rows } = await app.pool.query<{ n: number }>(`select count(*)::int as n from delivery where id = any($1) and status = 'SUCCEEDED'`, [healthyIds]);
      return rows[0]!.n === healthyIds.length ? true : undefined;
    }, 20_000, 'the healthy relay\'s 10 deliveries to succeed');
    // Promptly: before the silent receiver's attempt timed out, it was all done.
    const { rows: silentAttempts } = await app.pool.query('select 1 from attempt where delivery_id = $1', [hostile.silent]);
    expect(silentAttempts).toHaveLength(0);

    const [silentAttempt, trickleAttempt, hugeAttempt, resetAttempt, redirectAttempt, lingerAttempt] = await Promise.all(Object.values(hostile).map(firstAttempt));
    // Every attempt ended within the relay's timeout (and some scheduling slack).
    for (const attempt of [silentAttempt, trickleAttempt, hugeAttempt, resetAttempt, redirectAttempt, lingerAttempt]) {
      expect(attempt!.duration_ms).toBeLessThanOrEqual(TIMEOUT_MS + 2_000);
    }

    expect(silentAttempt).toMatchObject({ status: 'RETRYING', error_class: 'TIMEOUT', response_status: null, error_message: `no answer within ${TIMEOUT_MS} ms` });

    // A success once the status is read; the excerpt is what arrived before the timeout cut it.
    expect(trickleAttempt).toMatchObject({ status: 'SUCCEEDED', error_class: null, response_status: 200 });
    expect(trickleAttempt!.response_body_excerpt!.length).toBeGreaterThan(0);
    expect('abcdefghijklmnopqrstuvwxyz'.startsWith(trickleAttempt!.response_body_excerpt!)).toBe(true);
    await waitUntil(() => trickle.seen.closedAt, 5_000, 'the trickling socket to be closed by us');

    // 4 KiB kept, the rest never read: the receiver's writes stalled and its socket was closed.
    expect(hugeAttempt).toMatchObject({ status: 'SUCCEEDED', error_class: null, response_status: 200 });
    expect(hugeAttempt!.response_body_excerpt).toBe(chunk.subarray(0, 4096).toString());
    await waitUntil(() => huge.seen.closedAt, 5_000, 'the 100 MiB receiver\'s socket to be closed by us');
    expect(huge.seen.written).toBeLessThan(32 * MIB);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MIB);

    expect(resetAttempt).toMatchObject({ status: 'RETRYING', error_class: 'CONNECTION_RESET', response_status: null });

    expect(redirectAttempt).toMatchObject({ status: 'RETRYING', error_class: 'REDIRECT', response_status: 302, error_message: `redirect to ${healthy.url}/*** not followed` });
    expect(healthy.received.filter((r) => r.url === '/redirected')).toHaveLength(0);

    // Success, and the held-open socket closed by us, whatever Keep-Alive the receiver asked for.
    expect(lingerAttempt).toMatchObject({ status: 'SUCCEEDED', error_class: null, response_status: 200, response_body_excerpt: 'ok' });
    // Idle connections stay pooled 4 s at most (a pool that honoured the receiver's 600 s, or
    // kept them 30 s as before, never closes it within this wait).
    await waitUntil(() => linger.seen.closedAt, 10_000, 'the held-open socket to be closed by us');

    // One connection each: nothing was retried behind our back.
    for (const receiver of [silent, trickle, huge, reset, redirect, linger]) expect(receiver.seen.connections).toBe(1);
  });
});

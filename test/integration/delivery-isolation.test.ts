import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, AppOptions } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, DisableRelayDocument, PublishEventDocument, UpdateRelayDocument, type CreateRelayInput } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { spawnHookyard } from '../helpers/process.js';
import { startSink, waitUntil, type ReceivedRequest, type Sink, type SinkAnswer } from '../helpers/sink.js';
import { serveTunnels } from '../helpers/tunnel.js';

/**
 * Outbound isolation (DESIGN.md "Outbound delivery"): a relay only ever holds its own
 * `maxConcurrency` slots, `rateLimitPerSecond` spreads its requests, and first tries travel in
 * a lane of their own so a retry backlog never delays fresh deliveries. The worker runs with
 * few slots (8 per lane), so a relay without limits would take every one of them.
 */

let databaseUrl: string;
let api: App;
const sinks: Sink[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  // The API accepts and publishes; each case starts its own worker.
  api = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
});

afterAll(async () => {
  // Runs before the helpers stop the apps: open requests fail at once instead of holding shutdown.
  await Promise.all(sinks.map((sink) => sink.close()));
});

async function gql<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  const result = await execute(api.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/** A relay to `sink` with a subscription to `<prefix>.*` published events. */
async function relay(sink: Sink, prefix: string, input: Partial<CreateRelayInput> = {}): Promise<string> {
  const { createRelay } = await gql(CreateRelayDocument, { input: { name: prefix, url: `${sink.url}/${prefix}`, ...input } });
  await gql(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, eventTypes: [`${prefix}.*`] } });
  caseRelays.push(createRelay.relay.id);
  return createRelay.relay.id;
}

async function publish(type: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push((await gql(PublishEventDocument, { type, payload: { n } })).publishEvent.id);
  return ids;
}

/** Counts requests the sink is still holding: a request is open from its arrival until its answer. */
interface OpenCounter {
  open: number;
  max: number;
}

async function trackedSink(answer: (request: ReceivedRequest) => SinkAnswer): Promise<{ sink: Sink; counter: OpenCounter }> {
  const sink = await startSink();
  sinks.push(sink);
  const counter: OpenCounter = { open: 0, max: 0 };
  sink.answer = (_index, request) => {
    const reply = answer(request);
    counter.open++;
    counter.max = Math.max(counter.max, counter.open);
    // Scheduled before the sink's own reply timer of the same delay, so it fires first.
    setTimeout(() => counter.open--, reply.delayMs ?? 0);
    return reply;
  };
  return { sink, counter };
}

/** A minimal CONNECT proxy on 127.0.0.1 that counts the tunnels it opened. */
async function countingTunnel(): Promise<{ url: string; opened: () => number; close: () => Promise<void> }> {
  let opened = 0;
  const server = createHttpServer();
  const tunnels = serveTunnels(server, { onTunnel: () => opened++ });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    opened: () => opened,
    close: () => new Promise((done) => {
      tunnels.destroyAll();
      server.close(() => done());
    }),
  };
}

let worker: App | undefined;
const caseRelays: string[] = [];

/** A worker with 8 slots per lane; a short shutdown so the case ends promptly. */
async function startWorker(env: Record<string, string> = {}, options: AppOptions = {}): Promise<void> {
  worker = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'worker', HOOKYARD_WORKER_CONCURRENCY: '8', HOOKYARD_SHUTDOWN_SECONDS: '1', ...env }, options);
}

// Each case ends with its relays disabled (their remaining deliveries become HELD instead of
// reaching later cases) and its worker stopped, whether it passed or not.
afterEach(async () => {
  for (const id of caseRelays.splice(0)) await gql(DisableRelayDocument, { id, reason: 'case finished' });
  await worker?.stop();
  worker = undefined;
});

async function deliveryCount(relayId: string, where: string): Promise<number> {
  const { rows } = await api.pool.query<{ n: number }>(`select count(*)::int as n from delivery where relay_id = $1 and ${where}`, [relayId]);
  return rows[0]!.n;
}

describe('per-relay concurrency limit', () => {
  it('keeps a hanging relay to its maxConcurrency while another relay is delivered at once', async () => {
    const slow = await trackedSink(() => ({ status: 200, delayMs: 10_000 }));
    const fast = await trackedSink(() => ({ status: 200 }));
    await relay(slow.sink, 'slow', { maxConcurrency: 3, timeoutMs: 30_000 });
    const fastId = await relay(fast.sink, 'fast');
    await startWorker();

    await publish('slow.tick', 30);
    await waitUntil(() => (slow.counter.open >= 3 ? true : undefined), 15_000, 'the slow relay to hold 3 requests');

    const publishedAt = Date.now();
    const ids = await publish('fast.tick', 5);
    const arrived = await fast.sink.waitFor(5, 15_000);
    const firstSlowDone = slow.sink.received[0]!.at + 10_000;
    expect(arrived.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
    for (const request of arrived) {
      expect(request.at - publishedAt).toBeLessThan(5_000);
      // Well before any slot of the slow relay frees up: its limit, not a free slot, let them through.
      expect(request.at).toBeLessThan(firstSlowDone - 2_000);
    }
    // The first answers free slots; the next ones keep the relay at its limit, never above.
    await slow.sink.waitFor(6, 30_000);
    expect(slow.counter.max).toBe(3);
    expect(await deliveryCount(fastId, `status = 'SUCCEEDED'`)).toBe(5);
  });

  // Every limit 1..1000 is a pg-boss tier from the start, so a relay created while a worker runs
  // is held to its maxConcurrency from its first delivery.
  it('limits a relay created while the worker is running from its first delivery', async () => {
    await startWorker();
    const late = await trackedSink(() => ({ status: 200, delayMs: 3_000 }));
    await relay(late.sink, 'late', { maxConcurrency: 2, timeoutMs: 30_000 });
    await publish('late.tick', 10);
    // The 3rd request can only start once one of the first two is answered.
    await late.sink.waitFor(3, 20_000);
    expect(late.counter.max).toBe(2);
  });

  // Both lanes are priorities of one queue, and pg-boss counts a group's active jobs per queue:
  // maxConcurrency is one limit for a relay's first tries and retries together.
  it('counts first tries and retries of a relay against one limit', async () => {
    // Its first tries of `mixed.retry` fail at once and are retried; everything else is held 4 s.
    const failed = new Set<string>();
    let heldFirst = 0;
    const mixed = await trackedSink((request) => {
      const id = String(request.headers['webhook-id']);
      if (request.headers['hookyard-event-type'] === 'mixed.retry' && !failed.has(id)) {
        failed.add(id);
        return { status: 500 };
      }
      if (request.headers['hookyard-event-type'] === 'mixed.fresh') heldFirst++;
      return { status: 200, delayMs: 4_000 };
    });
    await relay(mixed.sink, 'mixed', { maxConcurrency: 3, retrySchedule: [1], timeoutMs: 30_000 });
    await startWorker();
    await publish('mixed.retry', 3);
    await waitUntil(() => (mixed.counter.open >= 3 && mixed.sink.received.length === 6 ? true : undefined), 15_000, '3 retries held');
    await publish('mixed.fresh', 3);
    await mixed.sink.waitFor(9, 20_000);
    expect(heldFirst).toBe(3);
    expect(mixed.counter.max).toBe(3);
  });
});

describe('per-relay rate limit', () => {
  // Two worker processes drain one 5/s relay: the limit is one budget in PostgreSQL, not one per
  // process. The strict check on send times (PostgreSQL's clock) is in test/unit/relay-rates.test.ts.
  it('holds 20 deliveries of a 5/s relay to 5 in any one-second span across two worker processes', async () => {
    const { sink } = await trackedSink(() => ({ status: 200 }));
    const relayId = await relay(sink, 'rated', { rateLimitPerSecond: 5 });
    const env = { DATABASE_URL: databaseUrl, HOOKYARD_ROLE: 'worker', HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN, HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true', HOOKYARD_SHUTDOWN_SECONDS: '1', LOG_LEVEL: 'warn' };
    // Each worker sends through a tunnel of its own, which shows that both took part.
    const tunnels = await Promise.all([countingTunnel(), countingTunnel()]);
    const workers = await Promise.all(tunnels.map((tunnel) => spawnHookyard({ ...env, HOOKYARD_EGRESS_PROXY: tunnel.url })));
    try {
      await publish('rated.tick', 20);
      expect((await sink.waitFor(20, 30_000)).length).toBe(20);
      await waitUntil(async () => ((await deliveryCount(relayId, `status = 'SUCCEEDED'`)) === 20 ? true : undefined), 15_000, '20 deliveries to succeed');
      // Each attempt starts at the turn the limit gave it, in PostgreSQL's clock shared by both
      // processes: never more than 5 in any one-second span (each process counting on its own
      // let 10 through at once). Arrival times at the receiver would add loopback jitter.
      const { rows } = await api.pool.query<{ ms: number }>(
        `select (extract(epoch from a.started_at) * 1000)::float8 as ms from attempt a join delivery d on d.id = a.delivery_id where d.relay_id = $1 order by 1`,
        [relayId],
      );
      const started = rows.map((row) => row.ms);
      expect(started).toHaveLength(20);
      for (const start of started) {
        expect(started.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(5);
      }
      expect(started.at(-1)! - started[0]!).toBeGreaterThanOrEqual(3000);
      for (const tunnel of tunnels) expect(tunnel.opened()).toBeGreaterThan(0);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(tunnels.map((tunnel) => tunnel.close()));
    }
  });
});

describe('first tries and retries in separate lanes', () => {
  it('delivers fresh events promptly while a backlog of slow retries fills the retry lane', async () => {
    // First tries fail at once; every retry holds its slot 6 s before failing again.
    const seen = new Set<string>();
    const failing = await trackedSink((request) => {
      const id = String(request.headers['webhook-id']);
      if (!seen.has(id)) {
        seen.add(id);
        return { status: 500 };
      }
      return { status: 500, delayMs: 6_000 };
    });
    const fresh = await trackedSink(() => ({ status: 200 }));
    // A limit above the worker's slots: only the lanes keep this relay from taking them all.
    const failingId = await relay(failing.sink, 'failing', { retrySchedule: [1, 1, 1], maxConcurrency: 50, timeoutMs: 30_000 });
    await relay(fresh.sink, 'fresh');
    await startWorker();

    await publish('failing.tick', 40);
    await waitUntil(async () => ((await deliveryCount(failingId, 'attempt_count >= 1')) === 40 ? true : undefined), 20_000, '40 failed first tries');
    // 6 of the 8: the lane's reserve (2) is kept for relays holding few slots.
    await waitUntil(() => (failing.counter.open >= 6 ? true : undefined), 15_000, 'retries holding their 6 retry slots');

    const publishedAt = Date.now();
    const ids = await publish('fresh.tick', 5);
    const arrived = await fresh.sink.waitFor(5, 15_000);
    expect(arrived.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
    // A shared lane would free its first slot only when a 6 s retry ends.
    for (const request of arrived) expect(request.at - publishedAt).toBeLessThan(3_000);
    expect(failing.counter.open).toBe(6);
    expect(await deliveryCount(failingId, `status in ('RETRYING', 'DELIVERING')`)).toBe(40);
  });
});

describe('one receiver never stalls the others', () => {
  it('delivers a healthy relay while one relay\'s DNS never answers and another hangs with maxConcurrency 1000', async () => {
    // A DNS server that reads every question and answers none.
    const silent: UdpSocket = createSocket('udp4');
    let questions = 0;
    silent.on('message', () => questions++);
    await new Promise<void>((done) => silent.bind(0, '127.0.0.1', done));
    try {
      const hanging = await trackedSink(() => ({ status: 200, delayMs: 60_000 }));
      const healthy = await trackedSink(() => ({ status: 200 }));
      // Both hogs may take every slot of the worker as far as their own limits go.
      const blackHole = await relay(healthy.sink, 'blackhole', { maxConcurrency: 1000, timeoutMs: 60_000, retrySchedule: [1] });
      await gql(UpdateRelayDocument, { id: blackHole, input: { url: `http://never-answers.test:${new URL(healthy.sink.url).port}/` } });
      const hangingId = await relay(hanging.sink, 'hanging', { maxConcurrency: 1000, timeoutMs: 60_000 });
      const healthyId = await relay(healthy.sink, 'healthy');
      await publish('blackhole.tick', 20);
      await publish('hanging.tick', 20);
      await startWorker(
        { HOOKYARD_WORKER_CONCURRENCY: '10', HOOKYARD_DNS_TIMEOUT_MS: '60000' },
        { sender: { dnsServers: [`127.0.0.1:${(silent.address() as AddressInfo).port}`] } },
      );
      await waitUntil(() => (questions > 0 && hanging.counter.open > 0 ? true : undefined), 15_000, 'both hogs to hold slots');

      const ids = await publish('healthy.tick', 5);
      const arrived = await healthy.sink.waitFor(5, 30_000);
      expect(arrived.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
      await waitUntil(async () => ((await deliveryCount(healthyId, `status = 'SUCCEEDED'`)) === 5 ? true : undefined), 15_000, 'the healthy relay\'s deliveries to succeed');
      // The others are still stuck: nothing reached the black-holed name, nothing came back from the hanging receiver.
      expect(healthy.sink.received.filter((r) => String(r.headers['hookyard-event-type']).startsWith('blackhole'))).toHaveLength(0);
      expect(await deliveryCount(blackHole, `status = 'SUCCEEDED'`)).toBe(0);
      expect(await deliveryCount(hangingId, `status = 'SUCCEEDED'`)).toBe(0);
    } finally {
      silent.close();
    }
  });
});

import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  BatchDeliveriesDocument, CreateBatchRelayDocument, CreateSubscriptionDocument, PublishEventDocument, ReplayEventDocument, RetryDeliveryDocument,
  UpdateRelayOrderingDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type ReceivedRequest, type Sink } from '../helpers/sink.js';

let app: App;
let sink: Sink;
let databaseUrl: string;
const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl, { HOOKYARD_DISABLE_AFTER_DEAD: '1000' });
  sink = await startSink();
});

interface Item {
  id: string;
  type: string;
  timestamp: string;
  source: string | null;
  data: { type: string; data: { n: number; pad?: string } };
}

async function batchRelay(path: string, batch: { maxEvents?: number; maxBytes?: number; maxWaitMs?: number }, extra: Record<string, unknown> = {}) {
  const created = await run(CreateBatchRelayDocument, { input: { name: path, url: `${sink.url}${path}`, maxConcurrency: 50, batch, ...extra } });
  expect(created.errors).toBeUndefined();
  const { relay, signingSecret } = created.data!.createRelay;
  await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: [`${path.slice(1)}.*`] } });
  return { relay, secret: signingSecret };
}

async function publish(path: string, data: Record<string, unknown>): Promise<string> {
  const result = await run(PublishEventDocument, { type: `${path.slice(1)}.event`, payload: data });
  expect(result.errors).toBeUndefined();
  return result.data!.publishEvent.id;
}

/** The sink answers 500 to the first request at `path`, 200 to everything else. */
function failFirstRequestAt(path: string): void {
  let failed = false;
  sink.answer = (_i, r) => {
    if (r.url !== path || failed) return { status: 200 };
    failed = true;
    return { status: 500 };
  };
}

const requestsAt = (path: string) => sink.received.filter((r) => r.url === path);
const headersOf = (r: ReceivedRequest) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
/** Verifies the request with the official Standard Webhooks library and returns its items. */
const verified = (secret: string, r: ReceivedRequest) => new Webhook(secret).verify(r.body.toString(), headersOf(r)) as Item[];

async function deliveriesOf(relayId: string) {
  return (await run(BatchDeliveriesDocument, { filter: { relayId }, first: 100 })).data!.deliveries.edges.map((e) => e.node);
}

async function allSucceeded(relayId: string, count: number) {
  return waitUntil(async () => {
    const all = await deliveriesOf(relayId);
    return all.length === count && all.every((d) => d.status === 'SUCCEEDED') ? all : undefined;
  }, 30_000, `${count} deliveries SUCCEEDED`);
}

describe('batched delivery', () => {
  it('sends JSON arrays of at most maxEvents events, signed over the whole body under the batch id', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay, secret } = await batchRelay('/sizes', { maxEvents: 5, maxWaitMs: 400 });
    expect(relay.batch).toEqual({ maxEvents: 5, maxBytes: 1024 * 1024, maxWaitMs: 400 });
    const ids = await Promise.all(Array.from({ length: 12 }, (_, n) => publish('/sizes', { n })));
    const deliveries = await allSucceeded(relay.id, 12);
    const requests = requestsAt('/sizes');
    const items = requests.flatMap((r) => {
      const batch = verified(secret, r);
      expect(batch.length).toBeLessThanOrEqual(5);
      expect(r.headers['hookyard-batch-size']).toBe(String(batch.length));
      expect(r.headers['content-type']).toBe('application/json');
      // Every delivery of the batch records the batch's id: the request's webhook-id.
      for (const item of batch) expect(deliveries.find((d) => d.event.id === item.id)!.batchId).toBe(r.headers['webhook-id']);
      return batch;
    });
    expect(items.map((i) => i.id).sort()).toEqual([...ids].sort());
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.length).toBeLessThan(12);
    expect(items[0]).toMatchObject({ type: 'sizes.event', source: null, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), data: { type: 'sizes.event', data: { n: expect.any(Number) } } });
  });

  it('keeps each body within maxBytes', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay, secret } = await batchRelay('/bytes', { maxEvents: 100, maxBytes: 1024, maxWaitMs: 500 });
    await Promise.all(Array.from({ length: 8 }, (_, n) => publish('/bytes', { n, pad: 'x'.repeat(250) })));
    await allSucceeded(relay.id, 8);
    const requests = requestsAt('/bytes');
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(r.body.length).toBeLessThanOrEqual(1024);
    expect(requests.flatMap((r) => verified(secret, r))).toHaveLength(8);
  });

  it('waits maxWaitMs for company, and goes at once when maxEvents is reached', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay } = await batchRelay('/wait', { maxEvents: 3, maxWaitMs: 1500 });
    const lonely = Date.now();
    await publish('/wait', { n: 0 });
    await allSucceeded(relay.id, 1);
    expect(requestsAt('/wait')[0]!.at - lonely).toBeGreaterThanOrEqual(1400);
    const { relay: full } = await batchRelay('/full', { maxEvents: 3, maxWaitMs: 30_000 });
    await Promise.all([0, 1, 2].map((n) => publish('/full', { n })));
    // Well before its 30 s wait: the third event filled it.
    await allSucceeded(full.id, 3);
    expect(requestsAt('/full')).toHaveLength(1);
  });

  it('retries a failed batch whole, under the same webhook-id, each delivery recording the attempt', async () => {
    failFirstRequestAt('/retry');
    const { relay, secret } = await batchRelay('/retry', { maxEvents: 4, maxWaitMs: 10_000 }, { retrySchedule: [1, 1, 1] });
    await Promise.all([0, 1, 2, 3].map((n) => publish('/retry', { n })));
    const deliveries = await allSucceeded(relay.id, 4);
    const [first, second] = requestsAt('/retry');
    expect(requestsAt('/retry')).toHaveLength(2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verified(secret, second!).map((i) => i.id)).toEqual(verified(secret, first!).map((i) => i.id));
    for (const d of deliveries) expect(d).toMatchObject({ attemptCount: 2, batchId: first!.headers['webhook-id'] });
  });

  it('sends a retried delivery and a replay alone, under their event id', async () => {
    failFirstRequestAt('/alone');
    const { relay, secret } = await batchRelay('/alone', { maxEvents: 2, maxWaitMs: 5000 }, { retrySchedule: [] });
    const [a] = await Promise.all([publish('/alone', { n: 0 }), publish('/alone', { n: 1 })]);
    const dead = await waitUntil(async () => {
      const all = await deliveriesOf(relay.id);
      return all.length === 2 && all.every((d) => d.status === 'DEAD') ? all : undefined;
    }, 20_000, 'the batch DEAD');
    expect(verified(secret, requestsAt('/alone')[0]!)).toHaveLength(2);
    const delivery = dead.find((d) => d.event.id === a)!;
    expect((await run(RetryDeliveryDocument, { id: delivery.id })).errors).toBeUndefined();
    await waitUntil(() => (requestsAt('/alone').length === 2 ? true : undefined), 10_000, 'the retry');
    const retried = requestsAt('/alone')[1]!;
    expect(retried.headers['webhook-id']).toBe(a);
    expect(verified(secret, retried).map((i) => i.id)).toEqual([a]);
    expect((await run(ReplayEventDocument, { id: a })).errors).toBeUndefined();
    await waitUntil(() => (requestsAt('/alone').length === 3 ? true : undefined), 10_000, 'the replay');
    const replayed = requestsAt('/alone')[2]!;
    expect(replayed.headers['webhook-id']).toBe(a);
    expect(verified(secret, replayed)).toHaveLength(1);
    await waitUntil(async () => ((await deliveriesOf(relay.id)).find((d) => d.id === delivery.id)?.status === 'SUCCEEDED' ? true : undefined), 10_000, 'the retried one SUCCEEDED');
  });

  it('batches an ordered relay with at most one delivery of a key per batch, each key in order', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay, secret } = await batchRelay('/ordered', { maxEvents: 10, maxWaitMs: 200 }, { orderingKeyFrom: 'json:$.data.customer' });
    await Promise.all(['a', 'b', 'c'].map(async (customer) => {
      for (let n = 0; n < 4; n++) await publish('/ordered', { customer, n });
    }));
    await allSucceeded(relay.id, 12);
    const batches = requestsAt('/ordered').map((r) => verified(secret, r).map((i) => i.data.data as unknown as { customer: string; n: number }));
    for (const batch of batches) expect(new Set(batch.map((i) => i.customer)).size).toBe(batch.length);
    for (const customer of ['a', 'b', 'c']) expect(batches.flat().filter((i) => i.customer === customer).map((i) => i.n)).toEqual([0, 1, 2, 3]);
  });

  it('refuses batch settings out of range, and clears batching with null', async () => {
    for (const batch of [{ maxEvents: 0 }, { maxEvents: 1001 }, { maxBytes: 100 }, { maxWaitMs: -1 }, { maxWaitMs: 60_001 }]) {
      const refused = await run(CreateBatchRelayDocument, { input: { name: 'bad', url: `${sink.url}/bad`, batch } });
      expect(refused.errors?.[0]?.extensions, JSON.stringify(batch)).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    const { relay } = await batchRelay('/cleared', { maxEvents: 2 });
    const cleared = await run(UpdateRelayOrderingDocument, { id: relay.id, input: { batch: null } });
    expect(cleared.errors).toBeUndefined();
    sink.answer = () => ({ status: 200 });
    await publish('/cleared', { n: 0 });
    await allSucceeded(relay.id, 1);
    // One event, as a plain Standard Webhooks request: its body is the event itself, not an array.
    expect(JSON.parse(requestsAt('/cleared')[0]!.body.toString())).toMatchObject({ type: 'cleared.event' });
  });

  it('releases a batch still filling when its worker stops, and another worker sends it', { timeout: 60_000 }, async () => {
    sink.answer = () => ({ status: 200 });
    // A worker of its own database, which stops before its batch's 30 s wait is over.
    const ownDatabase = await createTestDatabase();
    const stopping = await startTestApp(ownDatabase, { HOOKYARD_SHUTDOWN_SECONDS: '1' });
    const gqlOn = <T, V>(target: App, document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(target.url, document, variables, TEST_ADMIN_TOKEN);
    const created = (await gqlOn(stopping, CreateBatchRelayDocument, { input: { name: 'filling', url: `${sink.url}/filling`, batch: { maxEvents: 10, maxWaitMs: 30_000 } } })).data!.createRelay;
    await gqlOn(stopping, CreateSubscriptionDocument, { input: { relayId: created.relay.id, eventTypes: ['filling.*'] } });
    await gqlOn(stopping, PublishEventDocument, { type: 'filling.event', payload: { n: 0 } });
    const claimed = async (target: App) => (await target.pool.query<{ status: string; attempt_count: number }>('select status, attempt_count from delivery')).rows;
    await waitUntil(async () => ((await claimed(stopping))[0]?.status === 'DELIVERING' ? true : undefined), 10_000, 'the delivery in an open batch');
    await stopping.stop();
    const next = await startTestApp(ownDatabase);
    // Released, not lost and not attempted: back to PENDING, its job handed out again.
    expect(await claimed(next)).toEqual([{ status: expect.stringMatching(/^(PENDING|DELIVERING)$/), attempt_count: 0 }]);
    await gqlOn(next, UpdateRelayOrderingDocument, { id: created.relay.id, input: { batch: { maxEvents: 10, maxWaitMs: 0 } } });
    await waitUntil(async () => ((await claimed(next))[0]?.status === 'SUCCEEDED' ? true : undefined), 30_000, 'the released delivery sent');
    expect(requestsAt('/filling')).toHaveLength(1);
    // Released, it was never DELIVERING when taken again: one attempt, none INTERRUPTED.
    expect((await next.pool.query('select number, error_class from attempt')).rows).toEqual([{ number: 1, error_class: null }]);
  });
});

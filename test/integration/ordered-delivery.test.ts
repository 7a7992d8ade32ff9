import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CancelDeliveryDocument, CreateOrderedRelayDocument, CreateSubscriptionDocument, DisableRelayDocument, EnableRelayDocument, OrderedDeliveriesDocument,
  PublishEventDocument, ReplayEventDocument, type OrderedDeliveriesQuery, RetryDeliveryDocument, UpdateRelayOrderingDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { orderFindings, OrderSink, seeded, type Receipt } from '../helpers/order-sink.js';

let app: App;
const sink = new OrderSink();
const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_DISABLE_AFTER_DEAD: '1000', HOOKYARD_RETRY_POLL_SECONDS: '0.5' });
  await sink.start();
});

afterAll(() => sink.stop());

async function orderedRelay(path: string, input: { retrySchedule?: number[]; timeoutMs?: number; orderingOnDead?: 'CONTINUE' | 'HOLD'; orderingKeyFrom?: string; maxConcurrency?: number } = {}) {
  const created = await run(CreateOrderedRelayDocument, { input: { name: path, url: `${sink.url}${path}`, orderingKeyFrom: 'json:$.data.customer', maxConcurrency: 10, ...input } });
  expect(created.errors).toBeUndefined();
  const relay = created.data!.createRelay.relay;
  await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: [`${path.slice(1)}.*`] } });
  return relay;
}

async function publish(path: string, customer: string | undefined, seq: number): Promise<string> {
  const result = await run(PublishEventDocument, { type: `${path.slice(1)}.event`, payload: customer === undefined ? { seq } : { customer, seq } });
  expect(result.errors).toBeUndefined();
  return result.data!.publishEvent.id;
}

type Node = OrderedDeliveriesQuery['deliveries']['edges'][number]['node'];

async function deliveriesOf(relayId: string): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const page: OrderedDeliveriesQuery['deliveries'] = (await run(OrderedDeliveriesDocument, { filter: { relayId }, first: 100, after })).data!.deliveries;
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor ?? null;
  }
}

const seqOf = (d: { event: { payload?: unknown } }) => (d.event.payload as { data: { seq: number } }).data.seq;

async function waitForStatuses(relayId: string, expected: Record<number, string>, what: string) {
  return waitUntil(async () => {
    const all = await deliveriesOf(relayId);
    const bySeq = new Map(all.map((d) => [seqOf(d), d]));
    return Object.entries(expected).every(([seq, status]) => bySeq.get(Number(seq))?.status === status) ? bySeq : undefined;
  }, 30_000, what);
}

/**
 * Per key: the successful receipts in the order the events were accepted, and no two requests
 * of the key at once. At least once: a receiver that answered 200 after the relay's timeout gets
 * that event again, right after itself (`repeats`), never after a later one.
 */
function checkOrder(receipts: Receipt[], keys: string[], perKey: number): void {
  const findings = orderFindings(receipts, keys, perKey);
  expect({ outOfOrder: findings.outOfOrder, overlaps: findings.overlaps }).toEqual({ outOfOrder: [], overlaps: [] });
}

describe('ordered delivery per key', () => {
  it('sends each key one at a time in acceptance order while a receiver fails 20 % of requests and hangs on some', { timeout: 120_000 }, async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `cus_${i}`);
    const perKey = 15;
    const relay = await orderedRelay('/mixed', { retrySchedule: Array(20).fill(1), timeoutMs: 1000 });
    const random = seeded(42);
    let hangs = 0;
    sink.answer = (r) => {
      if (r.path !== '/mixed') return { status: 200 };
      // The first try of every seventh event of three keys hangs past the relay's timeout.
      if (r.seq! % 7 === 3 && ['cus_1', 'cus_4', 'cus_7'].includes(r.key!) && !sink.at('/mixed').some((o) => o !== r && o.key === r.key && o.seq === r.seq)) {
        hangs++;
        return 'hang';
      }
      return random() < 0.2 ? { status: 500 } : { status: 200 };
    };
    // Each key's events one after another (acceptance order is seq order), the keys side by side.
    await Promise.all(keys.map(async (key) => {
      for (let seq = 0; seq < perKey; seq++) await publish('/mixed', key, seq);
    }));
    await waitUntil(async () => {
      const all = await deliveriesOf(relay.id);
      return all.length === keys.length * perKey && all.every((d) => d.status === 'SUCCEEDED') ? all : undefined;
    }, 90_000, 'every delivery SUCCEEDED');
    const receipts = sink.at('/mixed');
    expect(receipts.filter((r) => r.status === 500).length).toBeGreaterThan(10);
    expect(hangs).toBeGreaterThanOrEqual(6);
    checkOrder(receipts, keys, perKey);
    // Different keys did go side by side.
    const overlapping = receipts.some((a) => receipts.some((b) => a.key !== b.key && b.start >= a.start && a.end !== undefined && b.start < a.end));
    expect(overlapping).toBe(true);
  });

  it('holds later deliveries of a key behind a RETRYING head, naming it in blockedBy, and lets other keys pass', { timeout: 60_000 }, async () => {
    const relay = await orderedRelay('/blocked', { retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] });
    let down = true;
    sink.answer = (r) => (r.path === '/blocked' && r.key === 'a' && down ? { status: 503 } : { status: 200 });
    await publish('/blocked', 'a', 0);
    await publish('/blocked', 'a', 1);
    await publish('/blocked', 'a', 2);
    await publish('/blocked', 'b', 0);
    const bySeqKey = async () => new Map((await deliveriesOf(relay.id)).map((d) => [`${d.orderingKey}:${seqOf(d)}`, d]));
    const blocked = await waitUntil(async () => {
      const all = await bySeqKey();
      return all.get('a:0')?.status === 'RETRYING' && all.get('b:0')?.status === 'SUCCEEDED' ? all : undefined;
    }, 20_000, 'a:0 RETRYING and b:0 SUCCEEDED');
    expect(blocked.get('a:1')).toMatchObject({ status: 'PENDING', blockedBy: blocked.get('a:0')!.id, orderingKey: 'a' });
    expect(blocked.get('a:2')).toMatchObject({ status: 'PENDING', blockedBy: blocked.get('a:0')!.id });
    expect(blocked.get('a:0')!.blockedBy).toBeNull();
    expect(sink.at('/blocked').filter((r) => r.key === 'a').every((r) => r.seq === 0)).toBe(true);
    down = false;
    await waitUntil(async () => ([...(await bySeqKey()).values()].every((d) => d.status === 'SUCCEEDED') ? true : undefined), 20_000, 'all SUCCEEDED');
    checkOrder(sink.at('/blocked').filter((r) => r.key === 'a'), ['a'], 3);
  });

  it('CONTINUE (the default): a DEAD head lets the next go, and retried later it joins the back of its key', { timeout: 60_000 }, async () => {
    const relay = await orderedRelay('/continue', { retrySchedule: [] });
    let failing = true;
    sink.answer = (r) => (r.path === '/continue' && r.seq === 0 && failing ? { status: 500 } : { status: 200 });
    const first = await publish('/continue', 'k', 0);
    await publish('/continue', 'k', 1);
    await publish('/continue', 'k', 2);
    const statuses = await waitForStatuses(relay.id, { 0: 'DEAD', 1: 'SUCCEEDED', 2: 'SUCCEEDED' }, '0 DEAD, 1 and 2 SUCCEEDED');
    expect(statuses.get(0)!.event.id).toBe(first);
    failing = false;
    // Retried while the key is busy behind a failing head: it waits at the back.
    let blockerDown = true;
    sink.answer = (r) => (r.path === '/continue' && r.seq === 3 && blockerDown ? { status: 503 } : { status: 200 });
    await run(UpdateRelayOrderingDocument, { id: relay.id, input: { retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] } });
    await publish('/continue', 'k', 3);
    await waitForStatuses(relay.id, { 3: 'RETRYING' }, '3 RETRYING');
    const retried = await run(RetryDeliveryDocument, { id: statuses.get(0)!.id });
    expect(retried.errors).toBeUndefined();
    await publish('/continue', 'k', 4);
    const waiting = await waitForStatuses(relay.id, { 0: 'PENDING', 4: 'PENDING' }, '0 and 4 waiting');
    expect(waiting.get(0)!.blockedBy).toBe(waiting.get(3)!.id);
    blockerDown = false;
    await waitForStatuses(relay.id, { 0: 'SUCCEEDED', 3: 'SUCCEEDED', 4: 'SUCCEEDED' }, 'all SUCCEEDED');
    // 3, then 0 (retried before 4 was accepted), then 4.
    expect(sink.at('/continue').filter((r) => r.status === 200).map((r) => r.seq)).toEqual([1, 2, 3, 0, 4]);
  });

  it('HOLD: a DEAD head holds its key until an operator retries it, or cancels it', { timeout: 60_000 }, async () => {
    const relay = await orderedRelay('/hold', { retrySchedule: [], orderingOnDead: 'HOLD' });
    expect(relay.orderingOnDead).toBe('HOLD');
    let failing = new Set(['h:0', 'c:0']);
    sink.answer = (r) => (r.path === '/hold' && failing.has(`${r.key}:${r.seq}`) ? { status: 500 } : { status: 200 });
    for (let seq = 0; seq < 3; seq++) await publish('/hold', 'h', seq);
    for (let seq = 0; seq < 2; seq++) await publish('/hold', 'c', seq);
    const byKey = async () => new Map((await deliveriesOf(relay.id)).map((d) => [`${d.orderingKey}:${seqOf(d)}`, d]));
    await waitUntil(async () => {
      const all = await byKey();
      return all.get('h:0')?.status === 'DEAD' && all.get('c:0')?.status === 'DEAD' ? all : undefined;
    }, 20_000, 'both heads DEAD');
    // A later key's delivery passes: had the held ones been free to go, they would have gone before it.
    await publish('/hold', 'other', 0);
    const held = await waitUntil(async () => {
      const all = await byKey();
      return all.get('other:0')?.status === 'SUCCEEDED' ? all : undefined;
    }, 20_000, 'the other key delivered');
    expect(held.get('h:1')).toMatchObject({ status: 'PENDING', blockedBy: held.get('h:0')!.id });
    expect(held.get('c:1')).toMatchObject({ status: 'PENDING', blockedBy: held.get('c:0')!.id });
    expect(sink.at('/hold').filter((r) => r.key === 'h' || r.key === 'c').map((r) => `${r.key}:${r.seq}`).sort()).toEqual(['c:0', 'h:0']);

    failing = new Set();
    expect((await run(RetryDeliveryDocument, { id: held.get('h:0')!.id })).errors).toBeUndefined();
    expect((await run(CancelDeliveryDocument, { id: held.get('c:0')!.id })).data!.cancelDelivery.status).toBe('CANCELLED');
    await waitUntil(async () => {
      const all = await byKey();
      return ['h:0', 'h:1', 'h:2', 'c:1'].every((k) => all.get(k)?.status === 'SUCCEEDED') ? true : undefined;
    }, 20_000, 'the held keys delivered');
    expect(sink.at('/hold').filter((r) => r.key === 'h' && r.status === 200).map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(sink.at('/hold').filter((r) => r.key === 'c').map((r) => r.seq)).toEqual([0, 1]);
  });

  it('HOLD turned to CONTINUE lets keys held by a DEAD head go on', { timeout: 60_000 }, async () => {
    const relay = await orderedRelay('/release', { retrySchedule: [], orderingOnDead: 'HOLD' });
    sink.answer = (r) => (r.path === '/release' && r.seq === 0 ? { status: 500 } : { status: 200 });
    await publish('/release', 'r', 0);
    await publish('/release', 'r', 1);
    await waitForStatuses(relay.id, { 0: 'DEAD', 1: 'PENDING' }, '0 DEAD');
    const updated = await run(UpdateRelayOrderingDocument, { id: relay.id, input: { orderingOnDead: 'CONTINUE' } });
    expect(updated.data!.updateRelay.orderingOnDead).toBe('CONTINUE');
    await waitForStatuses(relay.id, { 0: 'DEAD', 1: 'SUCCEEDED' }, '1 SUCCEEDED');
  });

  it('keeps the order across a relay disabled and enabled again, and a replay joins the back', { timeout: 60_000 }, async () => {
    const relay = await orderedRelay('/toggle', { retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] });
    let down = true;
    sink.answer = (r) => (r.path === '/toggle' && down ? { status: 503 } : { status: 200 });
    const first = await publish('/toggle', 't', 0);
    await waitForStatuses(relay.id, { 0: 'RETRYING' }, '0 RETRYING');
    await run(DisableRelayDocument, { id: relay.id, reason: 'maintenance' });
    await publish('/toggle', 't', 1);
    await publish('/toggle', 't', 2);
    await waitForStatuses(relay.id, { 0: 'HELD', 1: 'HELD', 2: 'HELD' }, 'all HELD');
    down = false;
    await run(EnableRelayDocument, { id: relay.id });
    await waitForStatuses(relay.id, { 0: 'SUCCEEDED', 1: 'SUCCEEDED', 2: 'SUCCEEDED' }, 'all SUCCEEDED');
    expect((await run(ReplayEventDocument, { id: first })).errors).toBeUndefined();
    await waitUntil(() => (sink.at('/toggle').filter((r) => r.status === 200).length === 4 ? true : undefined), 20_000, 'the replay delivered');
    expect(sink.at('/toggle').filter((r) => r.status === 200).map((r) => r.seq)).toEqual([0, 1, 2, 0]);
  });

  it('sends an event without a value at the key path unordered, and says why', async () => {
    const relay = await orderedRelay('/keyless');
    sink.answer = () => ({ status: 200 });
    await publish('/keyless', undefined, 0);
    const [delivery] = await waitUntil(async () => {
      const all = await deliveriesOf(relay.id);
      return all[0]?.status === 'SUCCEEDED' ? all : undefined;
    }, 20_000, 'the keyless delivery');
    expect(delivery).toMatchObject({ orderingKey: null, blockedBy: null, unorderedReason: 'the event has no value at json:$.data.customer' });
  });

  it('orders by header and by idempotency key, and refuses a spec it cannot read', async () => {
    const byKey = await orderedRelay('/by-idem', { orderingKeyFrom: 'idempotencyKey' });
    expect(byKey.orderingKeyFrom).toBe('idempotencyKey');
    sink.answer = () => ({ status: 200 });
    await run(PublishEventDocument, { type: 'by-idem.event', payload: { seq: 0 }, idempotencyKey: 'order-77' });
    const [delivery] = await waitUntil(async () => {
      const all = await deliveriesOf(byKey.id);
      return all[0]?.status === 'SUCCEEDED' ? all : undefined;
    }, 20_000, 'the keyed delivery');
    expect(delivery!.orderingKey).toBe('order-77');
    expect((await run(CreateOrderedRelayDocument, { input: { name: 'h', url: `${sink.url}/h`, orderingKeyFrom: 'header:X-Shopify-Order-Id' } })).data!.createRelay.relay.orderingKeyFrom).toBe('header:X-Shopify-Order-Id');
    for (const bad of ['query:order', 'json:$..a', 'json:customer', 'header:bad name', 'customer', 'x'.repeat(201)]) {
      const refused = await run(CreateOrderedRelayDocument, { input: { name: 'bad', url: `${sink.url}/bad`, orderingKeyFrom: bad } });
      expect(refused.errors?.[0]?.extensions, bad).toMatchObject({ code: 'BAD_USER_INPUT', field: 'orderingKeyFrom' });
    }
  });
});

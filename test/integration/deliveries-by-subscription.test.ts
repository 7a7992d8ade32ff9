import { parse } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { postGraphQL } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { countStatements } from '../helpers/sql-count.js';
import { subscribe } from '../helpers/ws.js';

/**
 * What one routing rule sent: `deliveries(filter: { subscriptionId })` and `Delivery.subscription`.
 * The api role only: deliveries stay PENDING (no worker), so every status here is one a test set.
 */
let app: App;
let db: pg.Pool;
const ids = { relayA: '', relayB: '', allOrders: '', paidOnly: '', everything: '' };

const admin = async (query: string, variables: Record<string, unknown> = {}) => {
  const result = await postGraphQL(app.url, query, variables, TEST_ADMIN_TOKEN);
  expect(result.errors, query).toBeUndefined();
  return result.data!;
};

interface Node { id: string; status: string; relay: { id: string }; event: { type: string }; subscription: { id: string; eventTypes: string[]; relay: { name: string } } | null }
const PAGE = `query($filter: DeliveryFilter, $first: Int, $after: String) {
  deliveries(filter: $filter, first: $first, after: $after) {
    edges { node { id status relay { id } event { type } subscription { id eventTypes relay { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function all(filter: Record<string, unknown>, first = 100): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const data = await admin(PAGE, { filter, first, after });
    const { edges, pageInfo } = data.deliveries as { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    nodes.push(...edges.map((e) => e.node));
    if (!pageInfo.hasNextPage) return nodes;
    after = pageInfo.endCursor;
  }
}

const publish = (type: string, n: number) => admin('mutation($type: String!, $payload: JSON!) { publishEvent(type: $type, payload: $payload) { id } }', { type, payload: { n } });

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  db = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
  const relay = async (name: string) => ((await admin('mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } } }', { input: { name, url: 'http://127.0.0.1:9/hook' } })).createRelay as { relay: { id: string } }).relay.id;
  ids.relayA = await relay('orders-service');
  ids.relayB = await relay('audit-trail');
  const rule = async (relayId: string, eventTypes: string[]) => ((await admin('mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }', { input: { relayId, eventTypes } })).createSubscription as { id: string }).id;
  ids.allOrders = await rule(ids.relayA, ['order.*']);
  ids.paidOnly = await rule(ids.relayA, ['order.paid']);
  ids.everything = await rule(ids.relayB, ['*']);
  // 6 paid (3 deliveries each), 5 shipped (2 each), 2 users (1 each): 18 + 10 + 2.
  for (let n = 0; n < 6; n++) await publish('order.paid', n);
  for (let n = 0; n < 5; n++) await publish('order.shipped', n);
  for (let n = 0; n < 2; n++) await publish('user.created', n);
}, 60_000);

afterAll(async () => {
  await db?.end();
});

describe('deliveries(filter: { subscriptionId })', () => {
  it('lists what one rule sent, and nothing another rule to the same relay sent', async () => {
    const orders = await all({ subscriptionId: ids.allOrders });
    expect(orders).toHaveLength(11);
    expect(orders.every((d) => d.subscription?.id === ids.allOrders && d.relay.id === ids.relayA)).toBe(true);
    const paid = await all({ subscriptionId: ids.paidOnly });
    expect(paid.map((d) => d.event.type)).toEqual(Array(6).fill('order.paid'));
    expect(await all({ relayId: ids.relayA })).toHaveLength(17);
  });

  it('composes with the other filters', async () => {
    expect(await all({ subscriptionId: ids.everything, eventType: 'order.shipped' })).toHaveLength(5);
    expect(await all({ subscriptionId: ids.everything, relayId: ids.relayB })).toHaveLength(13);
    expect(await all({ subscriptionId: ids.everything, relayId: ids.relayA })).toHaveLength(0);
    const [first, second] = await all({ subscriptionId: ids.paidOnly });
    await admin('mutation($id: ID!) { cancelDelivery(id: $id) { id } }', { id: first!.id });
    await admin('mutation($id: ID!) { cancelDelivery(id: $id) { id } }', { id: second!.id });
    const cancelled = await all({ subscriptionId: ids.paidOnly, status: ['CANCELLED'] });
    expect(cancelled.map((d) => d.id).sort()).toEqual([first!.id, second!.id].sort());
    expect(await all({ subscriptionId: ids.paidOnly, status: ['PENDING'] })).toHaveLength(4);
    expect(await all({ subscriptionId: ids.allOrders, status: ['CANCELLED'] })).toHaveLength(0);
  });

  it('pages newest first without a gap or a repeat', async () => {
    const whole = await all({ subscriptionId: ids.everything }, 100);
    const paged = await all({ subscriptionId: ids.everything }, 3);
    expect(paged.map((d) => d.id)).toEqual(whole.map((d) => d.id));
    expect(new Set(paged.map((d) => d.id)).size).toBe(13);
    expect(paged.map((d) => d.event.type).slice(0, 2)).toEqual(['user.created', 'user.created']);
  });

  it('takes the same id retryDeliveries does: one filter for lists and bulk operations', async () => {
    // Nothing is DEAD or RETRYING here: the count says the filter parsed and matched nothing to retry.
    const data = await admin('mutation($filter: DeliveryFilter!) { retryDeliveries(filter: $filter) }', { filter: { subscriptionId: ids.allOrders } });
    expect(data.retryDeliveries).toBe(0);
  });

  it('is empty, not an error, for an id that is no UUID or names no rule', async () => {
    expect(await all({ subscriptionId: 'not-a-uuid' })).toEqual([]);
    expect(await all({ subscriptionId: '01900000-0000-7000-8000-000000000000' })).toEqual([]);
  });
});

describe('Delivery.subscription', () => {
  it('is the rule, with its relay', async () => {
    const [delivery] = await all({ subscriptionId: ids.paidOnly });
    expect(delivery!.subscription).toEqual({ id: ids.paidOnly, eventTypes: ['order.paid'], relay: { name: 'orders-service' } });
  });

  it('is null for a direct send (sendTestEvent)', async () => {
    await admin('mutation($id: ID!) { sendTestEvent(relayId: $id) { id } }', { id: ids.relayB });
    const direct = (await all({ relayId: ids.relayB })).filter((d) => d.subscription === null);
    expect(direct).toHaveLength(1);
    expect(direct[0]!.event.type).toBe('hookyard.test');
  });

  it('loads every rule of a page in one statement, however many deliveries and rules', async () => {
    const statements = countStatements(app);
    try {
      const ask = async (selection: string) => {
        statements.reset();
        await admin(`{ deliveries(first: 30) { edges { node { id ${selection} } } } }`);
        return statements.count;
      };
      const plain = await ask('');
      const withRule = await ask('subscription { id eventTypes }');
      const withRuleAndRelay = await ask('subscription { id relay { name } }');
      expect(withRule - plain).toBe(1);
      expect(withRuleAndRelay - plain).toBe(2);
    } finally {
      statements.restore();
    }
  });

  it('is null once the rule is deleted, and the rule\'s history can still be listed by its id', async () => {
    const rule = ((await admin('mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }', { input: { relayId: ids.relayB, eventTypes: ['invoice.*'] } })).createSubscription as { id: string }).id;
    await publish('invoice.sent', 1);
    await publish('invoice.sent', 2);
    expect((await all({ subscriptionId: rule })).map((d) => d.subscription?.id)).toEqual([rule, rule]);
    await admin('mutation($id: ID!) { deleteSubscription(id: $id) }', { id: rule });
    const history = await all({ subscriptionId: rule });
    expect(history).toHaveLength(2);
    expect(history.map((d) => d.subscription)).toEqual([null, null]);
  });
});

describe('deliveryUpdated(filter: { subscriptionId })', () => {
  it('follows one rule live, each item naming its rule', async () => {
    const live = subscribe(app.url, parse('subscription($filter: DeliveryFilter) { deliveryUpdated(filter: $filter) { id status event { type } subscription { id eventTypes } } }'), { filter: { subscriptionId: ids.paidOnly } }, `Bearer ${TEST_ADMIN_TOKEN}`);
    await live.connected;
    await waitUntil(() => (app.liveSubscribers() > 0 ? true : undefined), 10_000, 'the subscription');
    await publish('order.shipped', 100);
    await publish('order.paid', 100);
    const [item] = await waitUntil(() => (live.results.length > 0 ? live.results : undefined), 10_000, 'a live delivery');
    expect(item).toMatchObject({ deliveryUpdated: { status: 'PENDING', event: { type: 'order.paid' }, subscription: { id: ids.paidOnly } } });
    // The shipped event's deliveries (two other rules) were published first and never came.
    expect(live.results).toHaveLength(1);
    // The socket's context outlives an edit to the rule: its next item shows the rule as it is now.
    await admin('mutation($id: ID!, $input: UpdateSubscriptionInput!) { updateSubscription(id: $id, input: $input) { id } }', { id: ids.paidOnly, input: { eventTypes: ['order.paid', 'order.refunded'] } });
    await publish('order.paid', 101);
    const second = await waitUntil(() => live.results[1], 10_000, 'a second live delivery');
    expect(second).toMatchObject({ deliveryUpdated: { subscription: { id: ids.paidOnly, eventTypes: ['order.paid', 'order.refunded'] } } });
    await admin('mutation($id: ID!, $input: UpdateSubscriptionInput!) { updateSubscription(id: $id, input: $input) { id } }', { id: ids.paidOnly, input: { eventTypes: ['order.paid'] } });
    expect(live.errors).toEqual([]);
    await live.dispose();
  });
});

/** Rows a plan touched: each node's rows returned and removed by its filters, times its loops. */
function rowsTouched(node: Record<string, unknown>): number {
  const loops = Number(node['Actual Loops'] ?? 1);
  const own = (Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  const children = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
  return own + children.reduce((sum, child) => sum + rowsTouched(child), 0);
}

describe('on a long history', () => {
  /** A busy rule's deliveries, all newer than the quiet rule's 25. */
  const BUSY = 8_000;

  it('reads a quiet rule\'s page through an index, not past the busy rule\'s rows', async () => {
    const seed = (count: number, subscriptionId: string, ago: string) => db.query(
      `with e as (
         insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
         select gen_random_uuid(), null, 'history', null, '{}', 'application/json', '\\x7b7d', now() - $3::interval - n * interval '1 ms' from generate_series(1, $1) n
         returning id, received_at)
       insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at)
       select gen_random_uuid(), e.id, $2, $4, 'SUCCEEDED', 1, e.received_at, e.received_at from e`,
      [count, ids.relayB, ago, subscriptionId],
    );
    await seed(25, ids.paidOnly, '3 hours');
    await seed(BUSY, ids.everything, '1 hour');
    await db.query('analyze delivery');

    // The statement exactly as the API sends it, second page included (the cursor condition).
    const query = vi.spyOn(app.apiPool, 'query');
    let after: string | null = null;
    try {
      for (const page of [1, 2]) {
        query.mockClear();
        const data = await admin('query($filter: DeliveryFilter, $after: String) { deliveries(filter: $filter, first: 20, after: $after) { edges { node { id } } pageInfo { endCursor } } }', { filter: { subscriptionId: ids.paidOnly }, after });
        after = (data.deliveries as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
        const call = query.mock.calls.find(([text]) => typeof text === 'string' && text.includes('from delivery d'));
        const [text, values] = call as unknown as [string, unknown[]];
        const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`explain (analyze, format json) ${text}`, values);
        const plan = rows[0]!['QUERY PLAN'][0].Plan;
        expect(JSON.stringify(plan), `page ${page}`).toContain('delivery_subscription_created_at_id_index');
        expect(rowsTouched(plan), `page ${page}`).toBeLessThan(200);
      }
    } finally {
      query.mockRestore();
    }
  }, 60_000);
});

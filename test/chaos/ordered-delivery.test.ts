import { afterAll, describe, it } from 'vitest';
import { createRelay, gql, subscribeRelay } from '../../bench/lib/configure.js';
import { createTestDatabase } from '../helpers/database.js';
import { orderFindings, OrderSink, seeded } from '../helpers/order-sink.js';
import type { HookyardProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/sink.js';
import { DRAIN_TIMEOUT_MS, hookyard, PLAN, SCENARIO_TIMEOUT_MS, Scenario, stopEverything, withClient } from './harness.js';

const sink = new OrderSink();

afterAll(async () => {
  await stopEverything();
  await sink.stop();
});

const PUBLISH = 'mutation($payload: JSON!) { publishEvent(type: "order.updated", payload: $payload) { id } }';

describe('chaos: ordered delivery', () => {
  it(`keeps every key in order across two workers and ${PLAN.orderedDelivery.kills} kill -9 while the receiver fails 20 % and hangs on some`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const plan = PLAN.orderedDelivery;
    const scenario = new Scenario('ordered_delivery');
    const databaseUrl = await createTestDatabase();
    await sink.start();
    const api = await hookyard(databaseUrl, 'api');
    const workers: HookyardProcess[] = await Promise.all([hookyard(databaseUrl, 'worker'), hookyard(databaseUrl, 'worker')]);
    const relayId = await createRelay(api.url, `${sink.url}/ordered`, {
      orderingKeyFrom: 'json:$.data.customer', maxConcurrency: plan.keys, timeoutMs: 500, retrySchedule: Array(40).fill(1),
    });
    await subscribeRelay(api.url, relayId, ['order.*']);

    const random = seeded(7);
    let hangs = 0;
    sink.answer = (r) => {
      // A few first tries hang past the relay's timeout; of the rest, a fifth fail.
      if (r.seq! % 9 === 4 && Number(r.key!.slice(4)) % 4 === 0 && !sink.receipts.some((o) => o !== r && o.key === r.key && o.seq === r.seq)) {
        hangs++;
        return 'hang';
      }
      return random() < 0.2 ? { status: 500 } : { status: 200 };
    };

    const keys = Array.from({ length: plan.keys }, (_, i) => `cus_${i}`);
    const perKey = plan.events / plan.keys;
    // Each key's events one after another, so acceptance order is seq order; the keys side by side.
    const publishing = Promise.all(keys.map(async (customer) => {
      for (let seq = 0; seq < perKey; seq++) await gql(api.url, PUBLISH, { payload: { customer, seq } });
    }));
    // The kills come once a tenth of the work has reached the receiver, at spaced moments.
    let kills = 0;
    for (let k = 0; k < plan.kills; k++) {
      await waitUntil(() => (sink.receipts.filter((r) => r.status === 200).length >= ((k + 1) * plan.events) / (plan.kills + 4) ? true : undefined), DRAIN_TIMEOUT_MS, 'deliveries under way');
      const victim = k % workers.length;
      workers[victim]!.kill9();
      kills++;
      workers[victim] = await hookyard(databaseUrl, 'worker');
    }
    await publishing;

    const unfinished = async () => withClient(databaseUrl, async (client) => (await client.query<{ n: number }>(
      `select count(*)::int as n from delivery where relay_id = $1 and status <> 'SUCCEEDED'`, [relayId])).rows[0]!.n);
    await waitUntil(async () => ((await unfinished()) === 0 ? true : undefined), DRAIN_TIMEOUT_MS, 'every delivery SUCCEEDED').catch(() => undefined);
    const [left, interrupted] = await Promise.all([unfinished(), withClient(databaseUrl, async (client) => (await client.query<{ n: number }>(
      `select count(*)::int as n from attempt a join delivery d on d.id = a.delivery_id where d.relay_id = $1 and a.error_class = 'INTERRUPTED'`, [relayId])).rows[0]!.n)]);
    const receipts = sink.at('/ordered');
    const findings = orderFindings(receipts, keys, perKey);

    scenario.figure({
      events: plan.events, keys: plan.keys, kills, requests: receipts.length, failed_500: receipts.filter((r) => r.status === 500).length, hangs,
      interrupted_attempts: interrupted, repeated_successes: findings.repeats, out_of_order_keys: findings.outOfOrder.slice(0, 3), overlaps: findings.overlaps.slice(0, 3),
    });
    scenario.equal('deliveries not SUCCEEDED', left, 0);
    scenario.equal('keys whose successful receipts were out of acceptance order', findings.outOfOrder.length, 0);
    scenario.equal('requests of one key in flight together', findings.overlaps.length, 0);
    // At least once: only a head in flight at a kill may arrive twice, and then right after itself.
    scenario.atMost('successes repeated (heads in flight at a kill)', findings.repeats, kills * plan.keys);
    scenario.atLeast('500 answers', receipts.filter((r) => r.status === 500).length, plan.events / 10);
    scenario.atLeast('hung requests', hangs, 3);
    scenario.equal('kills', kills, plan.kills);
    await scenario.finish();
  });
});

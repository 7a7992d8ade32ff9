import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, DeliveryUpdatedDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

let api: App;
const auth = `Bearer ${TEST_ADMIN_TOKEN}`;

beforeAll(async () => {
  // No worker: each delivery stays PENDING, so each relay gets exactly one change per event.
  api = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

async function relayFor(type: string): Promise<string> {
  const relay = await execute(api.url, CreateRelayDocument, { input: { name: type, url: 'http://127.0.0.1:9/hook' } }, TEST_ADMIN_TOKEN);
  const relayId = relay.data!.createRelay.relay.id;
  await execute(api.url, CreateSubscriptionDocument, { input: { relayId, eventTypes: [type] } }, TEST_ADMIN_TOKEN);
  return relayId;
}

describe('deliveryUpdated filtered by relay (the feed hands each change to its relay\'s listeners only)', () => {
  it('gives each relay\'s subscribers that relay\'s changes, however its id is spelled, and unfiltered ones all', async () => {
    const [a, b] = [await relayFor('part.a'), await relayFor('part.b')];
    const onA = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: a } }, auth);
    const onAUpper = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: a.toUpperCase() } }, auth);
    const onB = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: b } }, auth);
    const onBPending = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: b, status: ['SUCCEEDED'] } }, auth);
    const all = subscribe(api.url, DeliveryUpdatedDocument, {}, auth);
    const live = [onA, onAUpper, onB, onBPending, all];
    await waitUntil(() => (api.liveSubscribers() === live.length ? true : undefined), 10_000, 'the subscriptions');

    for (const type of ['part.a', 'part.b', 'part.a']) {
      const published = await execute(api.url, PublishEventDocument, { type, payload: { type } }, TEST_ADMIN_TOKEN);
      expect(published.errors).toBeUndefined();
    }
    await waitUntil(() => (all.results.length === 3 && onA.results.length === 2 && onAUpper.results.length === 2 && onB.results.length === 1 ? true : undefined), 10_000, 'the changes');
    const relays = (s: (typeof live)[number]) => s.results.map((r) => r.deliveryUpdated.relay.id);
    expect(relays(onA)).toEqual([a, a]);
    expect(relays(onAUpper)).toEqual([a, a]);
    expect(relays(onB)).toEqual([b]);
    expect(relays(all)).toEqual([a, b, a]);
    // The rest of a filter still applies within the partition.
    expect(onBPending.results).toEqual([]);
    await Promise.all(live.map((s) => s.dispose()));
    await waitUntil(() => (api.liveSubscribers() === 0 ? true : undefined), 10_000, 'the subscriptions to end');
  });
});

import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeliveriesDocument, DeliveryDocument, DeliveryUpdatedDocument,
  EventDocument, RetryDeliveryDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

let api: App;
let sink: Sink;
const auth = `Bearer ${TEST_ADMIN_TOKEN}`;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  // Split roles: the worker's status changes must reach a subscriber on the API process
  // through PostgreSQL LISTEN/NOTIFY, as they would across machines.
  api = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'worker' });
  sink = await startSink();
});

async function admin<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V): Promise<T> {
  const result = await execute(api.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function setUp(slug: string, path: string, retrySchedule?: number[]) {
  const { createSource: source } = await admin(CreateSourceDocument, { input: { name: `GitHub ${slug}`, slug, preset: 'GITHUB', secret: `${slug}-secret` } });
  const { createRelay } = await admin(CreateRelayDocument, { input: { name: 'sink', url: `${sink.url}${path}`, retrySchedule, headers: [{ name: 'X-Api-Key', value: 'receiver-key-123' }] } });
  const { createSubscription } = await admin(CreateSubscriptionDocument, { input: { relayId: createRelay.relay.id, sourceIds: [source.id], eventTypes: ['push', 'issues.*'] } });
  expect(createSubscription.relay.id).toBe(createRelay.relay.id);
  return { source, relay: createRelay.relay, signingSecret: createRelay.signingSecret };
}

async function sendGithub(url: string, secret: string, body: string, event = 'push'): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(secret, body) },
    body,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

describe('through the public surfaces only', () => {
  it('relays a signed GitHub webhook and streams PENDING → DELIVERING → SUCCEEDED over graphql-ws', async () => {
    const { source, relay, signingSecret } = await setUp('gh-live', '/live');
    expect(source.ingestUrl).toMatch(/\/ingest\/gh-live$/);
    const live = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: relay.id } }, auth);
    await waitUntil(() => (api.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription to register');

    const body = '{"ref":"refs/heads/main","after":"abc"}';
    const eventId = await sendGithub(`${api.url}/ingest/gh-live`, 'gh-live-secret', body);

    const [received] = await sink.waitFor(1);
    expect(received!.body.toString()).toBe(body);
    expect(received!.headers['x-api-key']).toBe('receiver-key-123');
    const headers = Object.fromEntries(Object.entries(received!.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(signingSecret).verify(body, headers)).toEqual(JSON.parse(body));

    await waitUntil(() => (live.results.length >= 3 ? true : undefined), 15_000, `three live updates (got ${JSON.stringify(live.results)})`);
    expect(live.results.map((r) => [r.deliveryUpdated.status, r.deliveryUpdated.attemptCount])).toEqual([
      ['PENDING', 0],
      ['DELIVERING', 0],
      ['SUCCEEDED', 1],
    ]);
    expect(live.results.every((r) => r.deliveryUpdated.event.id === eventId && r.deliveryUpdated.relay.id === relay.id)).toBe(true);
    await live.dispose();
    await waitUntil(() => (api.liveSubscribers() === 0 ? true : undefined), 10_000, 'the subscription to end');

    const { event } = await admin(EventDocument, { id: eventId });
    expect(event).toMatchObject({ type: 'push', payload: JSON.parse(body), body, source: { slug: 'gh-live' } });
    const { deliveries } = await admin(DeliveriesDocument, { filter: { eventId } });
    const { delivery } = await admin(DeliveryDocument, { id: deliveries.edges[0]!.node.id });
    const attempt = delivery!.attempts.edges[0]!.node;
    expect(attempt).toMatchObject({ number: 1, responseStatus: 200, errorClass: null });
    // Extra-header values are redacted in the attempt log.
    expect((attempt.requestHeaders as Record<string, string>)['x-api-key']).toBe('[redacted]');
    expect(JSON.stringify(delivery)).not.toContain('receiver-key-123');
  });

  it('streams the retries in order when the receiver answers 500, 500, then 200', async () => {
    const { relay } = await setUp('gh-retries', '/retries', [1, 1, 1]);
    let calls = 0;
    sink.answer = (_i, request) => (request.url === '/retries' && calls++ < 2 ? { status: 500 } : { status: 200 });
    const live = subscribe(api.url, DeliveryUpdatedDocument, { filter: { relayId: relay.id } }, auth);
    await waitUntil(() => (api.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription to register');
    await sendGithub(`${api.url}/ingest/gh-retries`, 'gh-retries-secret', '{"n":1}', 'issues.opened');
    await waitUntil(() => (live.results.at(-1)?.deliveryUpdated.status === 'SUCCEEDED' ? true : undefined), 20_000, `SUCCEEDED on the feed (got ${live.results.map((r) => r.deliveryUpdated.status).join(' ')})`);
    expect(live.results.map((r) => `${r.deliveryUpdated.status}:${r.deliveryUpdated.attemptCount}`)).toEqual([
      'PENDING:0', 'DELIVERING:0', 'RETRYING:1', 'DELIVERING:1', 'RETRYING:2', 'DELIVERING:2', 'SUCCEEDED:3',
    ]);
    await live.dispose();
    await waitUntil(() => (api.liveSubscribers() === 0 ? true : undefined), 10_000, 'the subscription to end');
  });

  it('retryDelivery queues a DEAD delivery now, and refuses one that already succeeded', async () => {
    const { relay } = await setUp('gh-dead', '/dead', []);
    sink.answer = (_i, request) => (request.url === '/dead' && sink.received.filter((r) => r.url === '/dead').length === 1 ? { status: 502 } : { status: 200 });
    const eventId = await sendGithub(`${api.url}/ingest/gh-dead`, 'gh-dead-secret', '{}');
    const deliveryId = await waitUntil(async () => {
      const { deliveries } = await admin(DeliveriesDocument, { filter: { eventId, status: ['DEAD'] } });
      return deliveries.edges[0]?.node.id;
    }, 15_000, 'DEAD');
    const { retryDelivery } = await admin(RetryDeliveryDocument, { id: deliveryId });
    expect(retryDelivery.status).toBe('PENDING');
    expect(retryDelivery.relay.id).toBe(relay.id);
    await waitUntil(async () => {
      const { delivery } = await admin(DeliveryDocument, { id: deliveryId });
      return delivery?.status === 'SUCCEEDED' ? delivery : undefined;
    }, 15_000, 'SUCCEEDED after retryDelivery');

    const again = await execute(api.url, RetryDeliveryDocument, { id: deliveryId }, TEST_ADMIN_TOKEN);
    expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await execute(api.url, RetryDeliveryDocument, { id: '01900000-0000-7000-8000-000000000000' }, TEST_ADMIN_TOKEN);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

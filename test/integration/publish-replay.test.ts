import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, PublishEventDocument, ReplayEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

let app: App;
let sink: Sink;
let signingSecret: string;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  sink = await startSink();
  const relay = await execute(app.url, CreateRelayDocument, { input: { name: 'all', url: `${sink.url}/all` } }, TEST_ADMIN_TOKEN);
  signingSecret = relay.data!.createRelay.signingSecret;
  await execute(app.url, CreateSubscriptionDocument, { input: { relayId: relay.data!.createRelay.relay.id, eventTypes: ['invoice.*'] } }, TEST_ADMIN_TOKEN);
  // A subscription scoped to a source never receives published events.
  const source = await execute(app.url, CreateSourceDocument, { input: { name: 'gh', slug: 'gh', preset: 'GITHUB', secret: 's' } }, TEST_ADMIN_TOKEN);
  const scoped = await execute(app.url, CreateRelayDocument, { input: { name: 'scoped', url: `${sink.url}/scoped` } }, TEST_ADMIN_TOKEN);
  await execute(app.url, CreateSubscriptionDocument, { input: { relayId: scoped.data!.createRelay.relay.id, sourceIds: [source.data!.createSource.id], eventTypes: ['*'] } }, TEST_ADMIN_TOKEN);
});

describe('publishEvent', () => {
  it('stores an internal event and delivers {type, timestamp, data}, signed, to matching subscriptions', async () => {
    const published = await execute(app.url, PublishEventDocument, { type: 'invoice.paid', payload: { id: 'in_1', amount: 1200, lines: [1, 2] }, idempotencyKey: 'in_1' }, TEST_ADMIN_TOKEN);
    expect(published.errors).toBeUndefined();
    const event = published.data!.publishEvent;
    expect(event).toMatchObject({ type: 'invoice.paid', idempotencyKey: 'in_1', source: null });

    const [received] = await sink.waitFor(1);
    expect(received!.url).toBe('/all');
    const body = JSON.parse(received!.body.toString()) as { type: string; timestamp: string; data: unknown };
    expect(body).toEqual({ type: 'invoice.paid', timestamp: expect.any(String), data: { id: 'in_1', amount: 1200, lines: [1, 2] } });
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['webhook-id']).toBe(event.id);
    expect(received!.headers['hookyard-source']).toBeUndefined();
    const headers = Object.fromEntries(Object.entries(received!.headers).map(([k, v]) => [k, String(v)]));
    expect(() => new Webhook(signingSecret).verify(received!.body.toString(), headers)).not.toThrow();

    const again = await execute(app.url, PublishEventDocument, { type: 'invoice.paid', payload: { different: true }, idempotencyKey: 'in_1' }, TEST_ADMIN_TOKEN);
    expect(again.data!.publishEvent.id).toBe(event.id);
    const { rows } = await app.pool.query(`select count(*)::int as n from event where idempotency_key = 'in_1'`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses an empty type, naming it', async () => {
    const bad = await execute(app.url, PublishEventDocument, { type: ' ', payload: {} }, TEST_ADMIN_TOKEN);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'type' });
  });
});

describe('replayEvent', () => {
  it('fans an event out again to today\'s subscriptions, with the same webhook-id', async () => {
    const published = await execute(app.url, PublishEventDocument, { type: 'invoice.voided', payload: { id: 'in_2' } }, TEST_ADMIN_TOKEN);
    const eventId = published.data!.publishEvent.id;
    await waitUntil(() => (sink.received.some((r) => r.headers['webhook-id'] === eventId) ? true : undefined), 15_000, 'the first delivery');

    // A relay that subscribes after the event was published gets it on replay.
    const late = await execute(app.url, CreateRelayDocument, { input: { name: 'late', url: `${sink.url}/late` } }, TEST_ADMIN_TOKEN);
    await execute(app.url, CreateSubscriptionDocument, { input: { relayId: late.data!.createRelay.relay.id, eventTypes: ['invoice.voided'] } }, TEST_ADMIN_TOKEN);

    const replayed = await execute(app.url, ReplayEventDocument, { id: eventId }, TEST_ADMIN_TOKEN);
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data!.replayEvent).toHaveLength(2);
    expect(replayed.data!.replayEvent.every((d) => d.event.id === eventId)).toBe(true);
    await waitUntil(() => (sink.received.filter((r) => r.headers['webhook-id'] === eventId).length === 3 ? true : undefined), 15_000, 'the replayed deliveries');
    expect(sink.received.filter((r) => r.headers['webhook-id'] === eventId).map((r) => r.url).sort()).toEqual(['/all', '/all', '/late']);

    const missing = await execute(app.url, ReplayEventDocument, { id: '01900000-0000-7000-8000-000000000000' }, TEST_ADMIN_TOKEN);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

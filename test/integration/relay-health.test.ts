import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CreateRelayDocument, CreateSubscriptionDocument, DeliveriesDocument, DisableRelayDocument, EnableRelayDocument, PublishEventDocument,
  RelayDocument, RelayStatusChangedDocument, SendTestEventDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

let app: App;
let sink: Sink;
let alertRelayId: string;
let alertSecret: string;

const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  sink = await startSink();
  // The alert relay must exist before the process that reads HOOKYARD_ALERT_RELAY_ID starts.
  const setup = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  const alert = await execute(setup.url, CreateRelayDocument, { input: { name: 'alerts', url: `${sink.url}/alerts` } }, TEST_ADMIN_TOKEN);
  alertRelayId = alert.data!.createRelay.relay.id;
  alertSecret = alert.data!.createRelay.signingSecret;
  await setup.stop();
  app = await startTestApp(databaseUrl, { HOOKYARD_ALERT_RELAY_ID: alertRelayId, HOOKYARD_DISABLE_AFTER_DEAD: '3' });
});

async function relayFor(path: string, eventType: string, retrySchedule: number[] = []) {
  const created = await run(CreateRelayDocument, { input: { name: path, url: `${sink.url}${path}`, retrySchedule } });
  const relay = created.data!.createRelay;
  await run(CreateSubscriptionDocument, { input: { relayId: relay.relay.id, eventTypes: [eventType] } });
  return relay;
}

async function publish(type: string, payload: unknown = {}): Promise<string> {
  return (await run(PublishEventDocument, { type, payload })).data!.publishEvent.id;
}

async function statusesOf(relayId: string): Promise<string[]> {
  const { data } = await run(DeliveriesDocument, { filter: { relayId }, first: 100 });
  return data!.deliveries.edges.map((e) => e.node.status).sort();
}

const received = (path: string) => sink.received.filter((r) => r.url === path);

describe('auto-disable', () => {
  it('disables a relay after consecutive DEAD deliveries, holds its deliveries, alerts, and resumes on enableRelay', async () => {
    let healthy = false;
    sink.answer = (_i, request) => (request.url === '/flaky' && !healthy ? { status: 500 } : { status: 200 });
    const { relay } = await relayFor('/flaky', 'flaky.*');
    const changes = subscribe(app.url, RelayStatusChangedDocument, {}, `Bearer ${TEST_ADMIN_TOKEN}`);
    await waitUntil(() => (app.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription to register');

    for (let i = 0; i < 3; i++) await publish('flaky.event', { i });
    const disabled = await waitUntil(async () => {
      const { data } = await run(RelayDocument, { id: relay.id });
      return data!.relay!.enabled ? undefined : data!.relay!;
    }, 20_000, 'the relay to be disabled');
    expect(disabled.disabledReason).toMatch(/3 deliveries in a row ended DEAD/);

    // relayStatusChanged reaches websocket clients.
    await waitUntil(() => (changes.results.some((r) => r.relayStatusChanged.id === relay.id && !r.relayStatusChanged.enabled) ? true : undefined), 10_000, 'relayStatusChanged');

    // The alert relay receives a signed relay.disabled event.
    const [alert] = await waitUntil(() => (received('/alerts').length > 0 ? received('/alerts') : undefined), 15_000, 'the alert');
    const headers = Object.fromEntries(Object.entries(alert!.headers).map(([k, v]) => [k, String(v)]));
    const payload = new Webhook(alertSecret).verify(alert!.body.toString(), headers) as { type: string; data: { relayId: string; reason: string } };
    expect(payload.type).toBe('relay.disabled');
    expect(payload.data).toMatchObject({ relayId: relay.id, reason: disabled.disabledReason });

    // New deliveries wait as HELD; nothing is sent.
    const before = received('/flaky').length;
    await publish('flaky.event', { held: true });
    await waitUntil(async () => ((await statusesOf(relay.id)).includes('HELD') ? true : undefined), 10_000, 'a HELD delivery');
    expect(received('/flaky').length).toBe(before);

    healthy = true;
    const enabled = await run(EnableRelayDocument, { id: relay.id });
    expect(enabled.data!.enableRelay).toMatchObject({ enabled: true, disabledReason: null });
    await waitUntil(async () => ((await statusesOf(relay.id)).filter((s) => s === 'SUCCEEDED').length === 1 ? true : undefined), 15_000, 'the held delivery to succeed');
    expect(await statusesOf(relay.id)).toEqual(['DEAD', 'DEAD', 'DEAD', 'SUCCEEDED']);
    await waitUntil(() => (changes.results.some((r) => r.relayStatusChanged.id === relay.id && r.relayStatusChanged.enabled) ? true : undefined), 10_000, 'the enable on the feed');
    await changes.dispose();
  });

  it('disables at once on 410 Gone', async () => {
    sink.answer = (_i, request) => (request.url === '/gone' ? { status: 410 } : { status: 200 });
    const { relay } = await relayFor('/gone', 'gone.*', [1, 1, 1]);
    await publish('gone.event');
    const disabled = await waitUntil(async () => {
      const { data } = await run(RelayDocument, { id: relay.id });
      return data!.relay!.enabled ? undefined : data!.relay!;
    }, 15_000, 'the relay to be disabled');
    expect(disabled.disabledReason).toMatch(/410 Gone/);
    expect(await statusesOf(relay.id)).toEqual(['HELD']);
    expect(received('/gone')).toHaveLength(1);
  });

  it('disables after failing for longer than the failing window', async () => {
    sink.answer = (_i, request) => (request.url === '/stale' ? { status: 503 } : { status: 200 });
    const { relay } = await relayFor('/stale', 'stale.*', [3600]);
    // As if attempts had been failing for two days (a fact in the database, not a mocked clock).
    await app.pool.query(`update relay set failing_since = now() - interval '48 hours' where id = $1`, [relay.id]);
    await publish('stale.event');
    const disabled = await waitUntil(async () => {
      const { data } = await run(RelayDocument, { id: relay.id });
      return data!.relay!.enabled ? undefined : data!.relay!;
    }, 15_000, 'the relay to be disabled');
    expect(disabled.disabledReason).toMatch(/no successful attempt for 24 hours/);
    expect(await statusesOf(relay.id)).toEqual(['HELD']);
  });
});

describe('disableRelay and enableRelay by hand', () => {
  it('holds deliveries while disabled and sends them all once enabled', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay } = await relayFor('/manual', 'manual.*');
    const disabled = await run(DisableRelayDocument, { id: relay.id, reason: 'receiver maintenance' });
    expect(disabled.data!.disableRelay).toMatchObject({ enabled: false, disabledReason: 'receiver maintenance' });
    for (let i = 0; i < 4; i++) await publish('manual.event', { i });
    await waitUntil(async () => ((await statusesOf(relay.id)).length === 4 ? true : undefined), 10_000, 'four deliveries');
    expect(await statusesOf(relay.id)).toEqual(['HELD', 'HELD', 'HELD', 'HELD']);
    expect(received('/manual')).toHaveLength(0);

    await run(EnableRelayDocument, { id: relay.id });
    await waitUntil(() => (received('/manual').length === 4 ? true : undefined), 15_000, 'the four held deliveries');
    await waitUntil(async () => ((await statusesOf(relay.id)).every((s) => s === 'SUCCEEDED') ? true : undefined), 10_000, 'SUCCEEDED');

    const bad = await run(DisableRelayDocument, { id: relay.id, reason: ' ' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const missing = await run(EnableRelayDocument, { id: '01900000-0000-7000-8000-000000000000' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('sendTestEvent', () => {
  it('sends a signed hookyard.test event now and returns its attempt, even to a disabled relay', async () => {
    sink.answer = (_i, request) => (request.url === '/test-me' ? { status: 202, body: 'got it' } : { status: 200 });
    const { relay, signingSecret } = await relayFor('/test-me', 'never.matches');
    await run(DisableRelayDocument, { id: relay.id, reason: 'testing' });
    const result = await run(SendTestEventDocument, { relayId: relay.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.sendTestEvent).toMatchObject({ number: 1, responseStatus: 202, errorClass: null });
    const [test] = received('/test-me');
    const headers = Object.fromEntries(Object.entries(test!.headers).map(([k, v]) => [k, String(v)]));
    expect((new Webhook(signingSecret).verify(test!.body.toString(), headers) as { type: string }).type).toBe('hookyard.test');
    // A failing test send does not count toward auto-disable, and does not retry.
    sink.answer = () => ({ status: 500 });
    const failed = await run(SendTestEventDocument, { relayId: relay.id });
    expect(failed.data!.sendTestEvent).toMatchObject({ responseStatus: 500, errorClass: 'HTTP_STATUS' });
    const { rows } = await app.pool.query('select consecutive_dead from relay where id = $1', [relay.id]);
    expect(rows[0].consecutive_dead).toBe(0);
    const missing = await run(SendTestEventDocument, { relayId: '01900000-0000-7000-8000-000000000000' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

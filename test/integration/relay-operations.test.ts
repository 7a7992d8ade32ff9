import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CancelDeliveryDocument, CreateRelayDocument, CreateSubscriptionDocument, DeliveriesDocument, DeliveryDocument, PublishEventDocument,
  RetryDeliveriesDocument, RotateRelaySecretDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

let app: App;
let sink: Sink;
const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_DISABLE_AFTER_DEAD: '1000' });
  sink = await startSink();
});

async function relayFor(path: string, eventType: string, retrySchedule: number[] = []) {
  const created = (await run(CreateRelayDocument, { input: { name: path, url: `${sink.url}${path}`, retrySchedule } })).data!.createRelay;
  await run(CreateSubscriptionDocument, { input: { relayId: created.relay.id, eventTypes: [eventType] } });
  return created;
}

const received = (path: string) => sink.received.filter((r) => r.url === path);

async function deliveries(relayId: string, status?: 'DEAD' | 'SUCCEEDED' | 'RETRYING' | 'CANCELLED') {
  const { data } = await run(DeliveriesDocument, { filter: { relayId, status: status ? [status] : null }, first: 100 });
  return data!.deliveries.edges.map((e) => e.node);
}

describe('retryDeliveries', () => {
  it('re-queues every matching DEAD delivery and reports how many', async () => {
    let up = false;
    sink.answer = (_i, request) => (request.url === '/bulk' && !up ? { status: 500 } : { status: 200 });
    const { relay } = await relayFor('/bulk', 'bulk.*');
    const other = await relayFor('/bulk-other', 'bulk.*');
    for (let i = 0; i < 6; i++) await run(PublishEventDocument, { type: 'bulk.event', payload: { i } });
    await waitUntil(async () => ((await deliveries(relay.id, 'DEAD')).length === 6 ? true : undefined), 20_000, 'six DEAD deliveries');
    up = true;
    const retried = await run(RetryDeliveriesDocument, { filter: { relayId: relay.id, status: ['DEAD'] } });
    expect(retried.data!.retryDeliveries).toBe(6);
    await waitUntil(async () => ((await deliveries(relay.id, 'SUCCEEDED')).length === 6 ? true : undefined), 20_000, 'six SUCCEEDED');
    // The other relay's deliveries were not touched (they had succeeded already).
    expect((await deliveries(other.relay.id, 'SUCCEEDED')).length).toBe(6);
    expect(received('/bulk-other')).toHaveLength(6);
    // Nothing left to retry.
    expect((await run(RetryDeliveriesDocument, { filter: { relayId: relay.id } })).data!.retryDeliveries).toBe(0);
  });
});

describe('cancelDelivery', () => {
  it('stops a RETRYING delivery for good, and refuses a finished one', async () => {
    sink.answer = (_i, request) => (request.url === '/cancel' ? { status: 503 } : { status: 200 });
    const { relay } = await relayFor('/cancel', 'cancel.*', [2, 2, 2]);
    await run(PublishEventDocument, { type: 'cancel.event', payload: {} });
    const [retrying] = await waitUntil(async () => {
      const found = await deliveries(relay.id, 'RETRYING');
      return found.length === 1 ? found : undefined;
    }, 15_000, 'RETRYING');
    const cancelled = await run(CancelDeliveryDocument, { id: retrying!.id });
    expect(cancelled.data!.cancelDelivery.status).toBe('CANCELLED');
    const attemptsBefore = received('/cancel').length;
    const retryJob = async () => (await app.pool.query<{ state: string }>(
      `select state from pgboss.job where data->>'deliveryId' = $1 and (data->>'attempt')::int = 2`, [retrying!.id],
    )).rows[0]?.state;
    // Its scheduled retry stays queued, comes due, is taken by a worker, finds nothing to do and is finished (deleted).
    expect(await retryJob()).toBe('created');
    await waitUntil(async () => ((await retryJob()) === undefined ? true : undefined), 15_000, 'the scheduled retry to run');
    expect(received('/cancel').length).toBe(attemptsBefore);
    expect((await run(DeliveryDocument, { id: retrying!.id })).data!.delivery!.status).toBe('CANCELLED');
    const again = await run(CancelDeliveryDocument, { id: retrying!.id });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('rotateRelaySecret', () => {
  it('signs with the new and the old secret during the grace period, then with the new one only', async () => {
    sink.answer = () => ({ status: 200 });
    const { relay, signingSecret: oldSecret } = await relayFor('/rotate', 'rotate.*');
    const rotated = (await run(RotateRelaySecretDocument, { id: relay.id, graceSeconds: 3600 })).data!.rotateRelaySecret;
    expect(rotated.signingSecret).not.toBe(oldSecret);
    expect(rotated.relay.signingSecretHint).toBe(`whsec_…${rotated.signingSecret.slice(-4)}`);
    expect(rotated.relay.previousSecretExpiresAt).toEqual(expect.any(String));

    await run(PublishEventDocument, { type: 'rotate.first', payload: {} });
    const [first] = await sink.waitFor(1).then(() => waitUntil(() => (received('/rotate').length === 1 ? received('/rotate') : undefined), 10_000, 'first'));
    const headers = (r: typeof first) => Object.fromEntries(Object.entries(r!.headers).map(([k, v]) => [k, String(v)]));
    expect(String(first!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(rotated.signingSecret).verify(first!.body.toString(), headers(first))).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(first!.body.toString(), headers(first))).not.toThrow();

    const immediate = (await run(RotateRelaySecretDocument, { id: relay.id, graceSeconds: 0 })).data!.rotateRelaySecret;
    expect(immediate.relay.previousSecretExpiresAt).toBeNull();
    await run(PublishEventDocument, { type: 'rotate.second', payload: {} });
    const second = (await waitUntil(() => (received('/rotate').length === 2 ? received('/rotate') : undefined), 10_000, 'second'))[1];
    expect(String(second!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(immediate.signingSecret).verify(second!.body.toString(), headers(second))).not.toThrow();
    expect(() => new Webhook(rotated.signingSecret).verify(second!.body.toString(), headers(second))).toThrow();
  });
});

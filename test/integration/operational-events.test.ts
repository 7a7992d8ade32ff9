import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { OPERATIONS_SOURCE_ID } from '../../src/routing/operations-source.js';
import {
  CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeleteSourceDocument, DeliveriesDocument, EnableRelayDocument, OperationsSourceDocument,
  PublishEventDocument, RelayDocument, ReplayEventDocument, RotateSourceSecretDocument, SourcesDocument, UpdateSourceDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type ReceivedRequest, type Sink } from '../helpers/sink.js';

/**
 * Operational events end to end: each type reaches relays subscribed to the built-in source,
 * signed, filtered by type like any event, and the loop guards hold. A relay is disabled after
 * 4 DEAD deliveries here, so `relay.failing` comes at 2; a source "rejects" at 3 refusals a minute.
 */
let app: App;
let sink: Sink;
let opsSecret: string;
let opsId: string;

const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

interface Operational {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Every request at `path`, its signature checked with `secret`. */
function receivedAt(path: string, secret: string): (Operational & { request: ReceivedRequest })[] {
  return sink.received.filter((r) => r.url === path).map((request) => {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    return { ...(new Webhook(secret).verify(request.body.toString(), headers) as Operational), request };
  });
}

const opsAbout = (type: string, key: string, id: string) => receivedAt('/ops', opsSecret).filter((e) => e.type === type && e.data[key] === id);

function waitForOps(type: string, key: string, id: string, count = 1) {
  return waitUntil(() => (opsAbout(type, key, id).length >= count ? opsAbout(type, key, id) : undefined), 20_000, `${count} ${type} about ${id} at /ops`);
}

async function relayFor(path: string, eventTypes: string[], sourceIds?: string[], retrySchedule: number[] = []) {
  const created = await run(CreateRelayDocument, { input: { name: path, url: `${sink.url}${path}/secret-path`, retrySchedule } });
  const relay = created.data!.createRelay;
  await run(CreateSubscriptionDocument, { input: { relayId: relay.relay.id, eventTypes, sourceIds } });
  return relay;
}

/** Stored operational events of `type` whose data names `id` under `key`. */
async function storedAbout(type: string, key: string, id: string): Promise<number> {
  const { rows } = await app.pool.query<{ n: number }>(
    `select count(*)::int as n from event where source_id = $1 and type = $2 and convert_from(body, 'UTF8')::jsonb -> 'data' ->> $3 = $4`,
    [OPERATIONS_SOURCE_ID, type, key, id],
  );
  return rows[0]!.n;
}

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  sink = await startSink();
  // The sink's paths carry a secret part: /ops/secret-path arrives as /ops/secret-path.
  sink.answer = (_i, request) => ({ status: request.url.startsWith('/flaky') || request.url.startsWith('/ops-broken') || request.url.startsWith('/slow') ? 500 : 200 });
  // HOOKYARD_ALERT_RELAY_ID names the /ops relay, which also subscribes: it gets relay.disabled once.
  const setup = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  const ops = await execute(setup.url, CreateRelayDocument, { input: { name: 'ops', url: `${sink.url}/ops` } }, TEST_ADMIN_TOKEN);
  opsId = ops.data!.createRelay.relay.id;
  opsSecret = ops.data!.createRelay.signingSecret;
  await setup.stop();
  app = await startTestApp(databaseUrl, {
    HOOKYARD_ALERT_RELAY_ID: opsId, HOOKYARD_DISABLE_AFTER_DEAD: '4', HOOKYARD_SOURCE_REJECTING_THRESHOLD: '3', HOOKYARD_SOURCE_REJECTING_WINDOW_MINUTES: '1',
  });
  await run(CreateSubscriptionDocument, { input: { relayId: opsId, sourceIds: [OPERATIONS_SOURCE_ID], eventTypes: ['delivery.dead', 'relay.*', 'source.rejecting'] } });
});

describe('the built-in source', () => {
  it('is listed, found by operationsSource, cannot be changed, deleted or posted to', async () => {
    const { data } = await run(OperationsSourceDocument, {});
    expect(data!.operationsSource).toMatchObject({ id: OPERATIONS_SOURCE_ID, slug: '_hookyard', builtIn: true });
    const sources = await run(SourcesDocument, {});
    expect(sources.data!.sources.map((s) => s.id)).toContain(OPERATIONS_SOURCE_ID);
    for (const refused of [
      await run(UpdateSourceDocument, { id: OPERATIONS_SOURCE_ID, input: { name: 'mine now' } }),
      await run(RotateSourceSecretDocument, { id: OPERATIONS_SOURCE_ID, secret: 'a-secret' }),
      await run(DeleteSourceDocument, { id: OPERATIONS_SOURCE_ID }),
    ]) expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const posted = await fetch(`${app.url}/ingest/_hookyard`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"relay.disabled"}' });
    expect(posted.status).toBe(404);
    expect(await storedAbout('relay.disabled', 'relayId', opsId)).toBe(0);
  });
});

describe('relay streaks', () => {
  it('sends delivery.dead per DEAD delivery, relay.failing once at half the threshold, relay.disabled, then relay.recovered', { timeout: 60_000 }, async () => {
    const deadOnly = await relayFor('/ops-dead', ['delivery.dead'], [OPERATIONS_SOURCE_ID]);
    // A catch-all rule made for user events: operational events never reach it.
    await relayFor('/all', ['*']);
    // An alert relay that fails every delivery: its own deaths are not reported again.
    const broken = await relayFor('/ops-broken', ['delivery.dead'], [OPERATIONS_SOURCE_ID]);
    const { relay: flaky } = await relayFor('/flaky', ['flaky.*']);

    for (let i = 0; i < 4; i++) await run(PublishEventDocument, { type: 'flaky.event', payload: { i } });
    const dead = await waitForOps('delivery.dead', 'relayId', flaky.id, 4);
    expect(dead).toHaveLength(4);
    expect(dead[0]!.data).toMatchObject({ eventType: 'flaky.event', relayName: '/flaky', relayUrl: `${sink.url}/***`, attempts: 1, sourceSlug: null, lastAttempt: { responseStatus: 500, errorClass: 'HTTP_STATUS' } });
    const failing = await waitForOps('relay.failing', 'relayId', flaky.id);
    expect(failing[0]!.data).toMatchObject({ name: '/flaky', url: `${sink.url}/***`, consecutiveDead: 2, disableAfterDead: 4, disableAfterFailingHours: 24 });
    const [disabled] = await waitForOps('relay.disabled', 'relayId', flaky.id);
    expect(disabled!.data).toMatchObject({ name: '/flaky', reason: '4 deliveries in a row ended DEAD' });

    // Filtered by type like any event: /ops-dead took only delivery.dead, the catch-all none.
    await waitUntil(() => (receivedAt('/ops-dead/secret-path', deadOnly.signingSecret).length >= 4 ? true : undefined), 20_000, 'delivery.dead at /ops-dead');
    expect(new Set(receivedAt('/ops-dead/secret-path', deadOnly.signingSecret).map((e) => e.type))).toEqual(new Set(['delivery.dead']));

    // The broken alert relay's four deliveries died (and disabled it, reported once each) without a delivery.dead about them.
    await waitForOps('relay.disabled', 'relayId', broken.relay.id);
    expect(opsAbout('relay.failing', 'relayId', broken.relay.id)).toHaveLength(1);
    const brokenDeliveries = await run(DeliveriesDocument, { filter: { relayId: broken.relay.id }, first: 50 });
    expect(brokenDeliveries.data!.deliveries.edges.map((e) => e.node.status)).toEqual(['DEAD', 'DEAD', 'DEAD', 'DEAD']);
    expect(await storedAbout('delivery.dead', 'relayId', broken.relay.id)).toBe(0);

    // Healthy again: enabled, its next success reports relay.recovered, once.
    sink.answer = (_i, request) => ({ status: request.url.startsWith('/ops-broken') || request.url.startsWith('/slow') ? 500 : 200 });
    await run(EnableRelayDocument, { id: flaky.id });
    await run(PublishEventDocument, { type: 'flaky.event', payload: { healthy: true } });
    await run(PublishEventDocument, { type: 'flaky.event', payload: { healthy: 'still' } });
    const [recovered] = await waitForOps('relay.recovered', 'relayId', flaky.id);
    expect(recovered!.data).toEqual({ relayId: flaky.id, name: '/flaky', url: `${sink.url}/***` });
    await waitUntil(() => (sink.received.filter((r) => r.url.startsWith('/flaky')).length >= 6 ? true : undefined), 10_000, 'both successes');
    expect(await storedAbout('relay.recovered', 'relayId', flaky.id)).toBe(1);

    // Exactly one of each streak event, though /ops is also HOOKYARD_ALERT_RELAY_ID.
    expect(opsAbout('relay.failing', 'relayId', flaky.id)).toHaveLength(1);
    expect(opsAbout('relay.disabled', 'relayId', flaky.id)).toHaveLength(1);
    expect(sink.received.filter((r) => r.url.startsWith('/all')).map((r) => JSON.parse(r.body.toString()).type as string).filter((t) => !t.startsWith('flaky.'))).toEqual([]);

    // An operational event is replayed like any other: the same event, sent again through today's subscriptions.
    const eventId = String(recovered!.request.headers['webhook-id']);
    const replayed = await run(ReplayEventDocument, { id: eventId });
    expect(replayed.data!.replayEvent.map((d) => d.relay.id)).toEqual([opsId]);
    await waitUntil(() => (opsAbout('relay.recovered', 'relayId', flaky.id).length === 2 ? true : undefined), 10_000, 'the replayed relay.recovered');
    expect(opsAbout('relay.recovered', 'relayId', flaky.id).map((e) => e.request.headers['webhook-id'])).toEqual([eventId, eventId]);
  });

  it('sends relay.failing at half the failing window, before the relay is disabled', async () => {
    const { relay } = await relayFor('/slow', ['slow.*'], undefined, [3600]);
    // As if attempts had been failing for 13 hours (a fact in the database, not a mocked clock).
    await app.pool.query(`update relay set failing_since = now() - interval '13 hours' where id = $1`, [relay.id]);
    await run(PublishEventDocument, { type: 'slow.event', payload: {} });
    const [failing] = await waitForOps('relay.failing', 'relayId', relay.id);
    expect(failing!.data).toMatchObject({ consecutiveDead: 0, name: '/slow' });
    const { data } = await run(RelayDocument, { id: relay.id });
    expect(data!.relay!.enabled).toBe(true);
  });
});

describe('source.rejecting', () => {
  it('reports a jump in a source\'s refusals once, not while they go on, and again after a quiet window', async () => {
    const created = await run(CreateSourceDocument, { input: { name: 'guarded', slug: 'guarded', preset: 'HMAC', secret: 'guarded-secret' } });
    const sourceId = created.data!.createSource.id;
    const refuse = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const response = await fetch(`${app.url}/ingest/guarded`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(response.status).toBe(401);
      }
    };
    const counted = async () => Number((await app.pool.query('select coalesce(sum(count), 0) as n from rejected_request where source_id = $1', [sourceId])).rows[0].n);

    await refuse(2);
    await waitUntil(async () => ((await counted()) === 2 ? true : undefined), 10_000, 'two refusals counted');
    expect(await storedAbout('source.rejecting', 'sourceId', sourceId)).toBe(0);
    await refuse(1);
    const [jump] = await waitForOps('source.rejecting', 'sourceId', sourceId);
    expect(jump!.data).toMatchObject({ slug: 'guarded', name: 'guarded', refusals: 3, threshold: 3, windowMinutes: 1 });
    expect(Object.values(jump!.data.reasons as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3);

    // Within the window: counted, not reported.
    await refuse(3);
    await waitUntil(async () => ((await counted()) === 6 ? true : undefined), 10_000, 'six refusals counted');
    // A window later while the refusals go on: noted again, still not reported.
    await app.pool.query(`update source set rejecting_noted_at = now() - interval '90 seconds' where id = $1`, [sourceId]);
    await refuse(1);
    await waitUntil(async () => ((await app.pool.query(`select rejecting_noted_at > now() - interval '30 seconds' as fresh from source where id = $1`, [sourceId])).rows[0].fresh ? true : undefined), 10_000, 'noted again');
    expect(await storedAbout('source.rejecting', 'sourceId', sourceId)).toBe(1);
    // After a quiet window: reported again.
    await app.pool.query(`update source set rejecting_noted_at = now() - interval '3 minutes' where id = $1`, [sourceId]);
    await refuse(1);
    await waitForOps('source.rejecting', 'sourceId', sourceId, 2);
    expect(await storedAbout('source.rejecting', 'sourceId', sourceId)).toBe(2);
  });
});

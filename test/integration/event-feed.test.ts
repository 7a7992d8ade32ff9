import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateSourceDocument, EventReceivedDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

let api: App;

beforeAll(async () => {
  api = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

async function send(slug: string, secret: string, payload: unknown): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${api.url}/ingest/${slug}`, { method: 'POST', headers: { 'x-signature': createHmac('sha256', secret).update(body).digest('hex'), 'x-id': String((payload as { id: string }).id) }, body });
}

describe('eventReceived', () => {
  it('streams every accepted event of one source, once, with its payload', async () => {
    const a = await execute(api.url, CreateSourceDocument, { input: { name: 'a', slug: 'feed-a', preset: 'HMAC', secret: 'a', eventTypeFrom: 'json:$.type', idempotencyKeyFrom: 'header:X-Id' } }, TEST_ADMIN_TOKEN);
    await execute(api.url, CreateSourceDocument, { input: { name: 'b', slug: 'feed-b', preset: 'HMAC', secret: 'b' } }, TEST_ADMIN_TOKEN);
    const onlyA = subscribe(api.url, EventReceivedDocument, { sourceId: a.data!.createSource.id }, `Bearer ${TEST_ADMIN_TOKEN}`);
    const all = subscribe(api.url, EventReceivedDocument, {}, `Bearer ${TEST_ADMIN_TOKEN}`);
    await waitUntil(() => (api.liveSubscribers() === 2 ? true : undefined), 10_000, 'both subscriptions');

    expect((await send('feed-a', 'a', { id: 'e1', type: 'order.created' })).status).toBe(200);
    expect((await send('feed-b', 'b', { id: 'e2' })).status).toBe(200);
    expect((await send('feed-a', 'a', { id: 'e1', type: 'order.created' })).status).toBe(200); // a duplicate: no new event
    await execute(api.url, PublishEventDocument, { type: 'internal.ping', payload: { n: 1 } }, TEST_ADMIN_TOKEN);

    await waitUntil(() => (all.results.length === 3 ? true : undefined), 10_000, `three events on the unfiltered feed (got ${all.results.length})`);
    await waitUntil(() => (onlyA.results.length === 1 ? true : undefined), 10_000, 'one event on the filtered feed');
    expect(onlyA.results[0]!.eventReceived).toMatchObject({ type: 'order.created', payload: { id: 'e1', type: 'order.created' }, source: { slug: 'feed-a' } });
    expect(all.results.map((r) => r.eventReceived.type).sort()).toEqual(['internal.ping', 'order.created', 'webhook']);
    await onlyA.dispose();
    await all.dispose();
  });
});

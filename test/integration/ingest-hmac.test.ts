import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil } from '../helpers/sink.js';

let app: App;
let fx: Fixtures;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  fx = fixtures(app.orm, app.keyring);
});

async function post(slug: string, body: string, headers: Record<string, string>, query = '') {
  const response = await fetch(`${app.url}/ingest/${slug}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as { id?: string; status?: string; error?: { code: string; message: string } } };
}

async function event(id: string) {
  const { rows } = await app.pool.query<{ type: string; idempotency_key: string | null; headers: Record<string, string> }>('select type, idempotency_key, headers from event where id = $1', [id]);
  return rows[0]!;
}

describe('generic HMAC sources', () => {
  it('verify an @octokit-style "sha256=<hex>" header and read type and key from where the source says', async () => {
    await fx.source({
      slug: 'acme', preset: 'HMAC', secret: 'acme-secret', signatureHeader: 'X-Acme-Signature', signaturePrefix: 'sha256=',
      eventTypeFrom: 'json:$.event.kind', idempotencyKeyFrom: 'header:X-Acme-Id',
    });
    const body = '{"event":{"kind":"invoice.paid"},"amount":10}';
    const answer = await post('acme', body, { 'x-acme-signature': await sign('acme-secret', body), 'x-acme-id': 'evt-1' });
    expect(answer.status).toBe(200);
    const stored = await event(answer.body.id!);
    expect(stored.type).toBe('invoice.paid');
    expect(stored.idempotency_key).toBe('evt-1');
    expect(stored.headers['x-acme-signature']).toBeUndefined();
    expect(stored.headers['x-acme-id']).toBe('evt-1');
    expect((await post('acme', body, { 'x-acme-signature': await sign('acme-secret', body), 'x-acme-id': 'evt-1' })).body).toEqual({ id: answer.body.id, status: 'duplicate' });
  });

  it('falls back to the type "webhook", takes the type from a query parameter, and needs no key by default', async () => {
    await fx.source({ slug: 'plain', preset: 'HMAC', secret: 'p' });
    const body = 'not json at all';
    const hex = createHmac('sha256', 'p').update(body).digest('hex');
    const first = await post('plain', body, { 'x-signature': hex });
    const second = await post('plain', body, { 'x-signature': hex });
    expect(first.status).toBe(200);
    expect(second.body.status).toBe('accepted');
    expect(second.body.id).not.toBe(first.body.id);
    expect((await event(first.body.id!)).type).toBe('webhook');

    await fx.source({ slug: 'by-query', preset: 'HMAC', secret: 'q', eventTypeFrom: 'query:event_type' });
    const byQuery = await post('by-query', body, { 'x-signature': createHmac('sha256', 'q').update(body).digest('hex') }, '?event_type=order.created');
    expect((await event(byQuery.body.id!)).type).toBe('order.created');
  });

  it('answers 400 naming the key when a source requires one and it is missing', async () => {
    await fx.source({ slug: 'strict', preset: 'HMAC', secret: 's', requireIdempotencyKey: true, idempotencyKeyFrom: 'header:Idempotency-Key' });
    const body = '{}';
    const answer = await post('strict', body, { 'x-signature': createHmac('sha256', 's').update(body).digest('hex') });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ code: 'MISSING_HEADER', message: expect.stringContaining('idempotency-key') });
  });

  it('routes by event-type pattern: only matching subscriptions get a delivery', async () => {
    const sink = await startSink();
    const source = await fx.source({ slug: 'routed', preset: 'HMAC', secret: 'r', eventTypeFrom: 'json:$.type' });
    const payments = await fx.relay({ url: `${sink.url}/payments` });
    const refunds = await fx.relay({ url: `${sink.url}/refunds` });
    const everything = await fx.relay({ url: `${sink.url}/all` });
    await fx.subscription({ relay: payments.relay, eventTypes: ['payment.*'], sourceIds: [source.id] });
    await fx.subscription({ relay: refunds.relay, eventTypes: ['refund.created'], sourceIds: [source.id] });
    await fx.subscription({ relay: everything.relay, eventTypes: ['*'] });
    const body = '{"type":"payment.intent.succeeded"}';
    const answer = await post('routed', body, { 'x-signature': createHmac('sha256', 'r').update(body).digest('hex') });
    await sink.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.received.map((r) => r.url).sort()).toEqual(['/all', '/payments']);
    const { rows } = await app.pool.query('select relay_id from delivery where event_id = $1', [answer.body.id]);
    expect(rows).toHaveLength(2);
    await waitUntil(async () => {
      const done = await app.pool.query(`select count(*)::int as n from delivery where event_id = $1 and status = 'SUCCEEDED'`, [answer.body.id]);
      return done.rows[0].n === 2 ? true : undefined;
    }, 10_000, 'both deliveries SUCCEEDED');
    await sink.close();
  });

  it('routes by payload filter on body and headers', async () => {
    const sink = await startSink();
    // Headers are stored by allow-list: a header a filter reads must be one the source keeps.
    const source = await fx.source({ slug: 'filtered', preset: 'HMAC', secret: 'f', eventTypeFrom: 'json:$.type', keepHeaders: ['x-region'] });
    const big = await fx.relay({ url: `${sink.url}/big` });
    const eu = await fx.relay({ url: `${sink.url}/eu` });
    await fx.subscription({ relay: big.relay, sourceIds: [source.id], filter: { body: { data: { amount: { $gte: 1000 } } } } });
    await fx.subscription({ relay: eu.relay, sourceIds: [source.id], filter: { body: { data: { tags: 'eu' } }, headers: { 'x-region': { $startsWith: 'eu-' } } } });
    const send = async (payload: unknown, headers: Record<string, string> = {}) => {
      const body = JSON.stringify(payload);
      const answer = await post('filtered', body, { 'x-signature': createHmac('sha256', 'f').update(body).digest('hex'), ...headers });
      const { rows } = await app.pool.query<{ url: string }>('select r.url from delivery d join relay r on r.id = d.relay_id where d.event_id = $1 order by r.url', [answer.body.id]);
      // The earlier catch-all subscription of this file takes everything; only ours matter here.
      return rows.map((r) => r.url.slice(sink.url.length)).filter((url) => url !== '/all');
    };
    expect(await send({ type: 'charge', data: { amount: 5000, tags: ['us'] } })).toEqual(['/big']);
    expect(await send({ type: 'charge', data: { amount: 10, tags: ['eu', 'vip'] } }, { 'x-region': 'eu-west-1' })).toEqual(['/eu']);
    expect(await send({ type: 'charge', data: { amount: 10, tags: ['eu'] } }, { 'x-region': 'us-east-1' })).toEqual([]);
    expect(await send({ type: 'charge', data: { amount: 2000, tags: ['eu'] } }, { 'x-region': 'eu-central-1' })).toEqual(['/big', '/eu']);
    await sink.close();
  });
});

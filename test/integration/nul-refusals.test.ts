import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

/**
 * PostgreSQL refuses NUL in `text` and in jsonb strings: a NUL that reached SQL was a 500 with
 * a stack trace in the log. Everywhere it can come in, it is refused with 400 /
 * BAD_USER_INPUT naming the field, nothing is stored, and nothing is logged as an error. A
 * NUL elsewhere in an ingested body is fine (bodies are stored as bytes).
 */

const logLines: string[] = [];
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let app: App;
let fx: Fixtures;
const adyenKey = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { LOG_LEVEL: 'info' }, {}, logDestination);
  fx = fixtures(app.orm, app.keyring);
  await fx.source({ slug: 'by-json', preset: 'HMAC', secret: 's', eventTypeFrom: 'json:$.type', idempotencyKeyFrom: 'json:$.id' });
  await fx.source({ slug: 'by-query', preset: 'HMAC', secret: 's', eventTypeFrom: 'query:type', idempotencyKeyFrom: 'query:key' });
  await fx.source({ slug: 'stripe', preset: 'STRIPE', secret: 'whsec_stripe' });
  await fx.source({ slug: 'adyen', preset: 'ADYEN', secret: adyenKey });
  await fx.source({ slug: 'github', preset: 'GITHUB', secret: 'gh' });
});

const errorLines = () => logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

async function count(table: string): Promise<number> {
  const { rows } = await app.pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]!.n;
}

const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

function stripeSignature(body: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', 'whsec_stripe').update(`${t}.${body}`).digest('hex')}`;
}

function adyenNotification(overrides: Record<string, unknown>): string {
  const unsigned = {
    pspReference: '7914073381342284', merchantAccountCode: 'TestMerchant', merchantReference: 'ref-1',
    amount: { value: 1130, currency: 'EUR' }, eventCode: 'AUTHORISATION', success: 'true', additionalData: {}, ...overrides,
  };
  const item = { ...unsigned, additionalData: { hmacSignature: new HmacValidator().calculateHmac(unsigned as never, adyenKey) } };
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: item }] });
}

async function ingest(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${app.url}/ingest/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: await response.json() };
}

const refused = (message: string) => ({ status: 400, body: { error: { code: 'BAD_USER_INPUT', message } } });

describe('NUL at ingest', () => {
  const json = (payload: unknown) => JSON.stringify(payload);
  it.each([
    ['an event type from a JSON path', 'by-json', json({ type: 'a\0b' }), 'hmac', refused('event type (JSON field $.type) must not contain NUL (U+0000)')],
    ['an idempotency key from a JSON path', 'by-json', json({ type: 'ok', id: 'k\0' }), 'hmac', refused('idempotency key (JSON field $.id) must not contain NUL (U+0000)')],
    ['an event type from a query parameter', 'by-query?type=a%00b', '{}', 'hmac', refused('event type (query parameter type) must not contain NUL (U+0000)')],
    ['an idempotency key from a query parameter', 'by-query?type=ok&key=%00', '{}', 'hmac', refused('idempotency key (query parameter key) must not contain NUL (U+0000)')],
    ["a preset's event type (Stripe)", 'stripe', json({ id: 'evt_1', type: 'charge.\0' }), 'stripe', refused('event type (JSON field $.type) must not contain NUL (U+0000)')],
    ["a preset's idempotency key (Stripe)", 'stripe', json({ id: 'evt_\0', type: 'charge.succeeded' }), 'stripe', refused('idempotency key (JSON field $.id) must not contain NUL (U+0000)')],
    ["an Adyen item's eventCode", 'adyen', adyenNotification({ eventCode: 'AUTH\0' }), 'adyen', refused('event type (eventCode of notificationItems[0]) must not contain NUL (U+0000)')],
    ["an Adyen item's pspReference", 'adyen', adyenNotification({ pspReference: '79\0' }), 'adyen', refused('idempotency key (pspReference:eventCode:success of notificationItems[0]) must not contain NUL (U+0000)')],
    // DESIGN.md's order: verification comes first, so an unsigned sender learns nothing more.
    ['an unverified request', 'by-json', json({ type: 'a\0b' }), 'unsigned', { status: 401, body: { error: { code: 'MISSING_SIGNATURE', message: expect.any(String) } } }],
  ])('%s is refused', async (_label, path, body, signing, expected) => {
    const before = await count('event');
    const headers: Record<string, string> = signing === 'hmac' ? { 'x-signature': hmacHex('s', body) } : signing === 'stripe' ? { 'stripe-signature': stripeSignature(body) } : {};
    expect(await ingest(path, body, headers)).toEqual(expected);
    expect(await count('event')).toBe(before);
  });

  it('refuses a header holding NUL (Node answers 400 before the route runs)', async () => {
    const before = await count('event');
    const body = '{}';
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1', () => {
        socket.write(`POST /ingest/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`
          + `X-GitHub-Event: push\0evil\r\nX-Hub-Signature-256: sha256=${hmacHex('gh', body)}\r\nConnection: close\r\n\r\n${body}`);
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(await count('event')).toBe(before);
  });

  it('stores a body with NUL elsewhere, as bytes', async () => {
    const body = json({ type: 'note', text: 'a\0b' });
    const answer = await ingest('by-json', body, { 'x-signature': hmacHex('s', body) });
    expect(answer.status).toBe(200);
    const { rows } = await app.pool.query<{ body: Buffer }>('select body from event where id = $1', [(answer.body as { id: string }).id]);
    expect(rows[0]!.body.toString('utf8')).toBe(body);
  });
});

async function graphql(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { errors?: unknown[] } };
}

const nulError = (field: string) => ({ message: `${field}: must not contain NUL (U+0000)`, extensions: { code: 'BAD_USER_INPUT', field } });
const EDGES = '{ edges { node { id } } }';
const RELAY_ID = '0190d1c2-0000-7000-8000-000000000000';

describe('NUL in GraphQL inputs', () => {
  // In these documents `\\u0000` is GraphQL's own escape: the literal string holds a NUL.
  const cases: [string, string, Record<string, unknown> | undefined, string][] = [
    ['a literal filter field', `{ events(filter: { type: "a\\u0000b" }) ${EDGES} }`, undefined, 'filter.type'],
    ['a filter object in a variable', `query($f: EventFilter) { events(filter: $f) ${EDGES} }`, { f: { type: 'a\0b' } }, 'filter.type'],
    ['a variable inside a literal filter', `query($k: String) { events(filter: { idempotencyKey: $k }) ${EDGES} }`, { k: 'k\0' }, 'filter.idempotencyKey'],
    ["a variable's default", `query($t: String = "a\\u0000") { events(filter: { type: $t }) ${EDGES} }`, undefined, 'filter.type'],
    ['an ID argument', '{ event(id: "\\u0000") { id } }', undefined, 'id'],
    ['an ID in a variable', `query($id: ID) { deliveries(filter: { relayId: $id }) ${EDGES} }`, { id: `${RELAY_ID}\0` }, 'filter.relayId'],
    ['a published type', 'mutation { publishEvent(type: "a\\u0000b", payload: {}) { id } }', undefined, 'type'],
    ['a published key in a variable', 'mutation($k: String) { publishEvent(type: "ok", payload: {}, idempotencyKey: $k) { id } }', { k: '\0' }, 'idempotencyKey'],
    ['a string inside a literal JSON payload', 'mutation { publishEvent(type: "ok", payload: { note: ["x", "a\\u0000"] }) { id } }', undefined, 'payload'],
    ['a key inside a JSON payload variable', 'mutation($p: JSON!) { publishEvent(type: "ok", payload: $p) { id } }', { p: { nested: [{ 'k\0': 1 }] } }, 'payload'],
    ['an input field', 'mutation { createSource(input: { name: "a\\u0000", slug: "nul-name", preset: HMAC, secret: "s" }) { id } }', undefined, 'input.name'],
    ['an input object in a variable', 'mutation($input: CreateSourceInput!) { createSource(input: $input) { id } }', { input: { name: 'n\0', slug: 'nul-var', preset: 'HMAC', secret: 's' } }, 'input.name'],
    ['a relay header value', 'mutation($h: [HeaderInput!]) { createRelay(input: { name: "r", url: "http://127.0.0.1:9/", headers: $h }) { relay { id } } }', { h: [{ name: 'X-A', value: 'a\0' }] }, 'input.headers[0].value'],
    ['a list item', 'mutation($types: [String!]!) { createSubscription(input: { relayId: "' + RELAY_ID + '", eventTypes: $types }) { id } }', { types: ['ok', 'a\0'] }, 'input.eventTypes[1]'],
    ['a string inside a JSON filter', 'mutation { createSubscription(input: { relayId: "' + RELAY_ID + '", eventTypes: ["*"], filter: { body: { a: "\\u0000" } } }) { id } }', undefined, 'input.filter'],
  ];

  it.each(cases)('over HTTP: %s', async (_label, query, variables, field) => {
    const tables = ['event', 'source', 'relay', 'event_subscription'];
    const before = await Promise.all(tables.map(count));
    expect(await graphql(query, variables)).toEqual({ status: 400, body: { errors: [nulError(field)] } });
    expect(await Promise.all(tables.map(count))).toEqual(before);
  });

  it('finds a NUL at any depth of a JSON variable, however deep a 1 MiB body nests it', async () => {
    const depth = 200_000;
    const query = 'mutation($p: JSON!) { publishEvent(type: "ok", payload: $p) { id } }';
    const body = `{"query":${JSON.stringify(query)},"variables":{"p":${'['.repeat(depth)}"a\\u0000"${']'.repeat(depth)}}}`;
    const response = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body });
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: { errors: [nulError('payload')] } });
  });

  it.each([
    ['a subscription argument in a variable', 'subscription($id: ID) { eventReceived(sourceId: $id) { id } }', { id: '\0' }, 'sourceId'],
    ['a literal query argument', `query { events(filter: { type: "a\\u0000b" }) ${EDGES} }`, {}, 'filter.type'],
    ['a mutation argument in a variable', 'mutation($t: String!) { publishEvent(type: $t, payload: {}) { id } }', { t: 'a\0' }, 'type'],
  ])('over websockets: %s', async (_label, query, variables, field) => {
    const before = await count('event');
    const live = subscribe(app.url, parse(query), variables, `Bearer ${TEST_ADMIN_TOKEN}`);
    await waitUntil(() => (live.errors.length > 0 || live.results.length > 0 ? true : undefined), 10_000, 'an answer over the socket');
    await live.dispose();
    expect(live.results).toEqual([]);
    expect(live.errors).toEqual([[expect.objectContaining(nulError(field))]]);
    expect(await count('event')).toBe(before);
  });

  it('logged no error along the way', () => {
    expect(errorLines()).toEqual([]);
  });
});

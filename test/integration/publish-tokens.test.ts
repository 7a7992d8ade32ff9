import { createHash, randomBytes } from 'node:crypto';
import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateApiTokenDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute, postGraphQL } from '../helpers/graphql.js';
import { operations, schema } from '../helpers/schema-operations.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

/** What a PUBLISH token may run: everything else in the schema must be refused. */
const ALLOWED = ['publishEvent', 'viewer'];
const refusedOps = [
  ...operations(schema.getQueryType(), 'query'),
  ...operations(schema.getMutationType(), 'mutation'),
  ...operations(schema.getSubscriptionType(), 'subscription'),
].filter((op) => !ALLOWED.includes(op.name));

/** Every stored body holds it: a response that contains it has leaked a read. */
const MARKER = `secret-${randomBytes(6).toString('hex')}`;

let app: App;
let publisher: string;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  const created = await execute(app.url, CreateApiTokenDocument, { input: { name: 'orders publisher', scope: 'PUBLISH' } }, TEST_ADMIN_TOKEN);
  expect(created.errors).toBeUndefined();
  expect(created.data!.createApiToken.apiToken.scope).toBe('PUBLISH');
  publisher = created.data!.createApiToken.token;
  // Something to leak: an event whose body holds the marker, published by ADMIN under a known key.
  const stored = await postGraphQL(app.url, 'mutation { publishEvent(type: "card.charged", payload: { card: "' + MARKER + '" }, idempotencyKey: "known-key") { id } }', {}, TEST_ADMIN_TOKEN);
  expect(stored.errors).toBeUndefined();
});

const PUBLISH = 'mutation Publish($type: String!, $payload: JSON!, $key: String) { publishEvent(type: $type, payload: $payload, idempotencyKey: $key) { id type idempotencyKey receivedAt } }';

async function eventsWithKey(key: string): Promise<number> {
  const found = await postGraphQL(app.url, 'query($key: String) { events(filter: { idempotencyKey: $key }) { edges { node { id } } } }', { key }, TEST_ADMIN_TOKEN);
  return (found.data!.events.edges as unknown[]).length;
}

describe('a PUBLISH token', () => {
  it('publishes an event, which is stored and fanned out like an ADMIN one', async () => {
    const published = await postGraphQL(app.url, PUBLISH, { type: 'order.paid', payload: { order: 1 }, key: 'order-1' }, publisher);
    expect(published.status).toBe(200);
    expect(published.errors).toBeUndefined();
    expect(published.data!.publishEvent).toMatchObject({ id: expect.any(String), type: 'order.paid', idempotencyKey: 'order-1' });
    expect(await eventsWithKey('order-1')).toBe(1);
  });

  it('reads its own viewer, so a client can say what it may do', async () => {
    const viewer = await postGraphQL(app.url, '{ viewer { tokenName scope } }', {}, publisher);
    expect(viewer.data).toEqual({ viewer: { tokenName: 'orders publisher', scope: 'PUBLISH' } });
  });

  it('covers the whole schema', () => {
    expect(refusedOps.length).toBeGreaterThanOrEqual(35);
    expect(refusedOps.map((op) => op.name)).toEqual(expect.arrayContaining(['createApiToken', 'deliveries', 'deliveryUpdated', 'relays', 'apiTokens']));
  });

  it.each(refusedOps.map((op) => [op.name, op]))('is refused %s over HTTP with FORBIDDEN (403), nothing run', async (_name, op) => {
    const { status, data, errors } = await postGraphQL(app.url, op.query, op.variables, publisher);
    expect(status).toBe(403);
    expect(errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(errors![0]!.message).toContain('PUBLISH token may only call publishEvent');
    expect(data ?? null).toBeNull();
  });

  it('is refused by GET too', async () => {
    const url = new URL('/graphql', app.url);
    url.searchParams.set('query', '{ relays { url } }');
    const response = await fetch(url, { headers: { authorization: `Bearer ${publisher}`, 'apollo-require-preflight': '1' } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('FORBIDDEN');
  });

  it('cannot create a token (no escalation): nothing is stored', async () => {
    const before = await postGraphQL(app.url, '{ apiTokens { id } }', {}, TEST_ADMIN_TOKEN);
    const attempt = await postGraphQL(app.url, 'mutation { createApiToken(input: { name: "escalated", scope: ADMIN }) { token } }', {}, publisher);
    expect(attempt.status).toBe(403);
    expect(attempt.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(attempt.text).not.toContain('hky_');
    const after = await postGraphQL(app.url, '{ apiTokens { id name } }', {}, TEST_ADMIN_TOKEN);
    expect(after.data!.apiTokens).toHaveLength((before.data!.apiTokens as unknown[]).length);
  });

  it.each([
    ['a refused field beside publishEvent', 'mutation { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { id } createApiToken(input: { name: "e", scope: ADMIN }) { token } }'],
    ['a refused field in a fragment', 'mutation { ...M } fragment M on Mutation { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { id } deleteRelay(id: "x") }'],
    ['a refused field in an inline fragment', 'mutation { ... on Mutation { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { id } } ... @skip(if: true) { deleteSource(id: "x") } }'],
    ['a second, refused operation in the document', 'mutation A { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { id } } query B { relays { url } }'],
    ['the published event\'s payload', 'mutation { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { id payload } }'],
    ['its source', 'mutation { publishEvent(type: "x.y", payload: {}, idempotencyKey: "mixed") { source { id } } }'],
    ['introspection', '{ __schema { types { name } } }'],
  ])('refuses the whole operation for %s: nothing runs', async (_what, query) => {
    const body = { query, ...(query.includes('mutation A') ? { operationName: 'A' } : {}) };
    const response = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` }, body: JSON.stringify(body) });
    const text = await response.text();
    expect(response.status).toBe(403);
    expect((JSON.parse(text) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('FORBIDDEN');
    expect(await eventsWithKey('mixed')).toBe(0);
  });

  it('cannot read another publisher\'s event by reusing its idempotency key', async () => {
    const again = await postGraphQL(app.url, 'mutation { publishEvent(type: "card.charged", payload: {}, idempotencyKey: "known-key") { id body headers } }', {}, publisher);
    expect(again.status).toBe(403);
    expect(again.text).not.toContain(MARKER);
    // What it may see of the event: that it exists, not what it holds.
    const allowed = await postGraphQL(app.url, 'mutation { publishEvent(type: "card.charged", payload: {}, idempotencyKey: "known-key") { id type } }', {}, publisher);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.text).not.toContain(MARKER);
  });

  it('is refused a persisted query it could not send as text', async () => {
    const query = '{ events(first: 5) { edges { node { body } } } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const registered = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: JSON.stringify({ query, extensions }) });
    expect(await registered.text()).toContain(MARKER);
    const byHash = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` }, body: JSON.stringify({ extensions }) });
    const text = await byHash.text();
    expect(text).not.toContain(MARKER);
    expect(byHash.status).toBe(403);
    expect((JSON.parse(text) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('FORBIDDEN');
  });
});

describe('a PUBLISH token over websockets', () => {
  it('publishes', async () => {
    const live = subscribe(app.url, parse(PUBLISH), { type: 'order.paid', payload: { order: 2 }, key: 'ws-order-2' }, `Bearer ${publisher}`);
    await waitUntil(() => (live.results.length + live.errors.length > 0 ? true : undefined), 10_000, 'the publishEvent result');
    expect(live.errors).toEqual([]);
    expect(await eventsWithKey('ws-order-2')).toBe(1);
    await live.dispose();
  });

  it.each(refusedOps.map((op) => [op.name, op]))('is refused %s with FORBIDDEN, the socket left open', async (_name, op) => {
    const live = subscribe(app.url, parse(op.query), op.variables, `Bearer ${publisher}`);
    await live.connected;
    const errors = await waitUntil(() => (live.errors.length > 0 ? live.errors : undefined), 10_000, `the refusal of ${op.name}`);
    expect(live.results).toEqual([]);
    const [first] = errors[0] as { extensions?: { code?: string } }[];
    expect(first!.extensions?.code).toBe('FORBIDDEN');
    expect(app.liveSubscribers()).toBe(0);
    await live.dispose();
  });
});

import { readFileSync } from 'node:fs';
import { buildSchema, getNamedType, isObjectType, isNonNullType, type GraphQLObjectType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeleteRelayDocument, DeleteSourceDocument, DeleteSubscriptionDocument,
  RelayDocument, SourceDocument, SubscriptionsDocument, UpdateRelayDocument, UpdateSourceDocument, UpdateSubscriptionDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api', HOOKYARD_PUBLIC_URL: 'https://relay.example.test/' });
});

const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);
const NIL = '01900000-0000-7000-8000-000000000000';

function expectInputError(result: { errors?: { message: string; extensions?: { code?: string; field?: string } }[] }, field: string, code = 'BAD_USER_INPUT') {
  expect(result.errors, JSON.stringify(result)).toHaveLength(1);
  expect(result.errors![0]!.extensions).toMatchObject({ code, field });
  expect(result.errors![0]!.message).toContain(field);
  expect(JSON.stringify(result.errors)).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

describe('sources', () => {
  it('are created, read, updated and deleted', async () => {
    const created = await run(CreateSourceDocument, { input: { name: ' Billing ', slug: 'billing', preset: 'HMAC', secret: 'shh', signatureHeader: 'X-Billing-Signature', eventTypeFrom: 'json:$.type', maxBodyBytes: 4096 } });
    expect(created.errors).toBeUndefined();
    const source = created.data!.createSource;
    expect(source).toMatchObject({ name: 'Billing', slug: 'billing', preset: 'HMAC', enabled: true, hasSecret: true, liveSecretCount: 1, maxBodyBytes: 4096, ingestUrl: 'https://relay.example.test/ingest/billing' });

    const updated = await run(UpdateSourceDocument, { id: source.id, input: { name: 'Billing v2', enabled: false, eventTypeFrom: null } });
    expect(updated.data!.updateSource).toMatchObject({ name: 'Billing v2', enabled: false, eventTypeFrom: null, signatureHeader: 'X-Billing-Signature' });
    expect((await run(SourceDocument, { id: source.id })).data!.source!.name).toBe('Billing v2');

    expect((await run(DeleteSourceDocument, { id: source.id })).data!.deleteSource).toBe(source.id);
    expect((await run(SourceDocument, { id: source.id })).data!.source).toBeNull();
    expect((await run(SourceDocument, { id: 'not-a-uuid' })).data!.source).toBeNull();
  });

  it.each([
    ['slug', { slug: 'Bad Slug' }],
    ['slug', { slug: '-leading-dash' }],
    ['name', { name: '   ' }],
    ['secret', { secret: null }],
    ['secret', { secret: '' }],
    ['secret', { preset: 'ADYEN', secret: 'ab'.repeat(31) }],
    ['secret', { preset: 'STANDARD_WEBHOOKS', secret: 'not-whsec' }],
    ['publicUrl', { preset: 'TWILIO' }],
    ['publicUrl', { publicUrl: 'ftp://x.test/hook' }],
    ['toleranceSeconds', { toleranceSeconds: 0 }],
    ['maxBodyBytes', { maxBodyBytes: -1 }],
    ['rateLimitPerSecond', { rateLimitPerSecond: 0 }],
    ['signatureAlgorithm', { signatureAlgorithm: 'md5' }],
    ['signatureEncoding', { signatureEncoding: 'base32' }],
    ['signatureHeader', { signatureHeader: 'bad header' }],
    ['eventTypeFrom', { eventTypeFrom: 'body:type' }],
    ['idempotencyKeyFrom', { idempotencyKeyFrom: 'json:type' }],
    ['basicAuthPassword', { basicAuthUsername: 'only-user' }],
  ] as const)('refuses a bad %s (%j), changing nothing', async (field, override) => {
    const before = await app.pool.query('select count(*)::int as n from source');
    const result = await run(CreateSourceDocument, { input: { name: 'x', slug: `bad-${field.toLowerCase()}`, preset: 'HMAC', secret: 'k', ...override } as never });
    expectInputError(result, field);
    const after = await app.pool.query('select count(*)::int as n from source');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses a slug that is taken, on create and on update', async () => {
    await run(CreateSourceDocument, { input: { name: 'a', slug: 'taken', preset: 'GITHUB', secret: 's' } });
    expectInputError(await run(CreateSourceDocument, { input: { name: 'b', slug: 'taken', preset: 'GITHUB', secret: 's' } }), 'slug');
    const other = await run(CreateSourceDocument, { input: { name: 'c', slug: 'free', preset: 'GITHUB', secret: 's' } });
    expectInputError(await run(UpdateSourceDocument, { id: other.data!.createSource.id, input: { slug: 'taken' } }), 'slug');
  });

  it('answers NOT_FOUND for unknown ids', async () => {
    expectInputError(await run(UpdateSourceDocument, { id: NIL, input: { name: 'x' } }), 'id', 'NOT_FOUND');
    expectInputError(await run(DeleteSourceDocument, { id: 'nonsense' }), 'id', 'NOT_FOUND');
  });
});

describe('relays', () => {
  it('are created with a signing secret shown once, then read, updated and deleted', async () => {
    const created = await run(CreateRelayDocument, { input: { name: 'Orders', url: 'https://orders.example.test/hooks?team=1', headers: [{ name: 'Authorization', value: 'Bearer receiver-secret' }], retrySchedule: [1, 5], timeoutMs: 5000 } });
    expect(created.errors).toBeUndefined();
    const { relay, signingSecret } = created.data!.createRelay;
    expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(relay).toMatchObject({ name: 'Orders', method: 'POST', enabled: true, retrySchedule: [1, 5], timeoutMs: 5000, maxConcurrency: 10, headerNames: ['Authorization'], signingSecretHint: `whsec_…${signingSecret.slice(-4)}` });

    const updated = await run(UpdateRelayDocument, { id: relay.id, input: { method: 'put', retrySchedule: null, headers: [] } });
    expect(updated.data!.updateRelay).toMatchObject({ method: 'PUT', retrySchedule: [5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 86400], headerNames: [] });
    expect((await run(RelayDocument, { id: relay.id })).data!.relay!.method).toBe('PUT');
    expect((await run(DeleteRelayDocument, { id: relay.id })).data!.deleteRelay).toBe(relay.id);
    expect((await run(RelayDocument, { id: relay.id })).data!.relay).toBeNull();
  });

  it('keeps a signing secret given by the caller', async () => {
    const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    const created = await run(CreateRelayDocument, { input: { name: 'mine', url: 'https://x.test/', signingSecret: secret } });
    expect(created.data!.createRelay.signingSecret).toBe(secret);
  });

  it.each([
    ['url', { url: 'not a url' }],
    ['url', { url: 'ftp://x.test/' }],
    ['method', { method: 'DELETE' }],
    ['timeoutMs', { timeoutMs: 10 }],
    ['retrySchedule', { retrySchedule: [5, 0] }],
    ['maxConcurrency', { maxConcurrency: 0 }],
    ['headers', { headers: [{ name: 'webhook-id', value: 'x' }] }],
    ['headers', { headers: [{ name: 'TraceParent', value: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }] }],
    ['headers', { headers: [{ name: 'tracestate', value: 'a=1' }] }],
    ['headers', { headers: [{ name: 'X-Ok', value: 'a\r\nInjected: 1' }] }],
    ['signingSecret', { signingSecret: 'whsec_c2hvcnQ=' }],
    ['signingSecret', { signingSecret: 'plain' }],
  ] as const)('refuses a bad %s (%j)', async (field, override) => {
    expectInputError(await run(CreateRelayDocument, { input: { name: 'r', url: 'https://x.test/', ...override } as never }), field);
  });
});

describe('subscriptions', () => {
  it('route a relay, and are updated and deleted', async () => {
    const relay = (await run(CreateRelayDocument, { input: { name: 'r', url: 'https://x.test/' } })).data!.createRelay.relay;
    const source = (await run(CreateSourceDocument, { input: { name: 's', slug: 'sub-src', preset: 'GITHUB', secret: 'k' } })).data!.createSource;
    const created = await run(CreateSubscriptionDocument, { input: { relayId: relay.id, sourceIds: [source.id], eventTypes: ['push', 'pull_request.*'], forwardHeaders: ['X-GitHub-Delivery'] } });
    expect(created.errors).toBeUndefined();
    const subscription = created.data!.createSubscription;
    expect(subscription).toMatchObject({ relay: { id: relay.id, name: 'r' }, sourceIds: [source.id], eventTypes: ['push', 'pull_request.*'], forwardHeaders: ['x-github-delivery'], enabled: true, filter: null });
    const updated = await run(UpdateSubscriptionDocument, { id: subscription.id, input: { sourceIds: [], eventTypes: ['*'], enabled: false } });
    expect(updated.data!.updateSubscription).toMatchObject({ sourceIds: null, eventTypes: ['*'], enabled: false });
    expect((await run(SubscriptionsDocument, {})).data!.subscriptions.map((s) => s.id)).toContain(subscription.id);
    expect((await run(DeleteSubscriptionDocument, { id: subscription.id })).data!.deleteSubscription).toBe(subscription.id);
  });

  it('refuses unknown relays and sources, bad patterns and bad payload filters', async () => {
    const relay = (await run(CreateRelayDocument, { input: { name: 'r', url: 'https://x.test/' } })).data!.createRelay.relay;
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: NIL, eventTypes: ['*'] } }), 'relayId', 'NOT_FOUND');
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: relay.id, sourceIds: [NIL], eventTypes: ['*'] } }), 'sourceIds', 'NOT_FOUND');
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: [] } }), 'eventTypes');
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: ['a..b'] } }), 'eventTypes');
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: ['*.a'] } }), 'eventTypes');
    const badOperator = await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: ['*'], filter: { body: { amount: { $gtx: 1 } } } } });
    expectInputError(badOperator, 'filter');
    expect(badOperator.errors![0]!.message).toContain('$gtx');
    expect(badOperator.errors![0]!.message).toContain('body.amount');
    expectInputError(await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: ['*'], filter: { query: { a: 1 } } } }), 'filter');
  });

  it('stores a valid payload filter', async () => {
    const relay = (await run(CreateRelayDocument, { input: { name: 'r', url: 'https://x.test/' } })).data!.createRelay.relay;
    const filter = { body: { data: { amount: { $gte: 1000 } }, currency: { $in: ['eur', 'usd'] } }, headers: { 'x-shop': 'a.example' } };
    const created = await run(CreateSubscriptionDocument, { input: { relayId: relay.id, eventTypes: ['*'], filter } });
    expect(created.data!.createSubscription.filter).toEqual(filter);
    const cleared = await run(UpdateSubscriptionDocument, { id: created.data!.createSubscription.id, input: { filter: null } });
    expect(cleared.data!.updateSubscription.filter).toBeNull();
  });
});

describe('secrets are write-only', () => {
  const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

  /** Every field reachable within a few levels, skipping fields that need arguments. */
  function everything(type: GraphQLObjectType, depth: number): string {
    const fields = Object.values(type.getFields()).filter((f) => !f.args.some((a) => isNonNullType(a.type)));
    return `{ ${fields.map((f) => {
      const named = getNamedType(f.type);
      if (!isObjectType(named)) return f.name;
      return depth > 0 ? `${f.name} ${everything(named, depth - 1)}` : '';
    }).join(' ')} __typename }`;
  }

  it('never appear in any query result', async () => {
    const sourceSecret = 'source-secret-ABC123';
    const basicPassword = 'basic-password-XYZ789';
    const headerValue = 'header-value-QWE456';
    await run(CreateSourceDocument, { input: { name: 's', slug: 'secretive', preset: 'HMAC', secret: sourceSecret, basicAuthUsername: 'u', basicAuthPassword: basicPassword } });
    const relay = await run(CreateRelayDocument, { input: { name: 'r', url: 'https://x.test/', headers: [{ name: 'X-Key', value: headerValue }], proxyUrl: 'http://user:proxy-password-RTY@proxy.test:3128' } });
    const signingSecret = relay.data!.createRelay.signingSecret;
    const query = schema.getQueryType()!;
    const results: string[] = [];
    for (const field of Object.values(query.getFields())) {
      if (field.args.some((a) => isNonNullType(a.type))) continue;
      const named = getNamedType(field.type);
      const selection = isObjectType(named) ? everything(named, 4) : '';
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({ query: `{ ${field.name} ${selection} }` }),
      });
      const text = await response.text();
      expect(JSON.parse(text).errors, `${field.name}: ${text}`).toBeUndefined();
      results.push(text);
    }
    const all = results.join('\n');
    expect(all).toContain('secretive');
    for (const secret of [sourceSecret, basicPassword, headerValue, signingSecret, signingSecret.slice(6, 30), 'proxy-password-RTY']) {
      expect(all).not.toContain(secret);
    }
  });
});

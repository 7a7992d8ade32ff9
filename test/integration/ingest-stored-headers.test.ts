import { createHmac, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { SCRUB_SIGNATURES_SQL } from '../../src/db/migrations/Migration20261130000000_scrub_signatures.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { postGraphQL } from '../helpers/graphql.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
});

const gql = (query: string, variables: Record<string, unknown> = {}) => postGraphQL(app.url, query, variables, TEST_ADMIN_TOKEN);

async function storedHeaders(eventId: string): Promise<Record<string, string>> {
  const { rows } = await app.pool.query<{ headers: Record<string, string> }>('select headers from event where id = $1', [eventId]);
  return rows[0]!.headers;
}

describe('headers stored with an event, by allow-list', () => {
  it('GitHub: its own headers, Content-Type and User-Agent; never either signature, cookies or anything else', async () => {
    await fixtures(app.orm, app.keyring).source({ slug: 'gh', preset: 'GITHUB', secret: 'gh-secret' });
    const body = '{"zen":"hi"}';
    const response = await fetch(`${app.url}/ingest/gh`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/abc', 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-github-hook-id': '42',
        'x-hub-signature-256': `sha256=${createHmac('sha256', 'gh-secret').update(body).digest('hex')}`,
        'x-hub-signature': `sha1=${createHmac('sha1', 'gh-secret').update(body).digest('hex')}`,
        cookie: 'session=abc', 'x-forwarded-for': '10.0.0.1', 'x-internal-trace': 'secret-ish',
      },
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    expect(await storedHeaders(id)).toEqual({
      'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/abc', 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-github-hook-id': '42',
    });
  });

  it('HMAC: the headers the source names and keeps (keepHeaders), never its signature even when named', async () => {
    const created = await gql(`mutation { createSource(input: { name: "acme", slug: "acme", preset: HMAC, secret: "acme-secret", signatureHeader: "X-Acme-Auth",
      eventTypeFrom: "header:X-Acme-Event", idempotencyKeyFrom: "header:X-Acme-Id", keepHeaders: ["X-Region", "x-acme-auth-version"] }) { id keepHeaders } }`);
    expect(created.errors).toBeUndefined();
    expect(created.data!.createSource.keepHeaders).toEqual(['x-region', 'x-acme-auth-version']);
    const body = '{"n":1}';
    const response = await fetch(`${app.url}/ingest/acme`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json', 'user-agent': 'acme/1', 'x-acme-event': 'order.paid', 'x-acme-id': 'a-1', 'x-region': 'eu-west-1', 'x-acme-auth-version': '2', 'x-other': 'no',
        'x-acme-auth': createHmac('sha256', 'acme-secret').update(body).digest('hex'),
      },
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    expect(await storedHeaders(id)).toEqual({ 'content-type': 'application/json', 'user-agent': 'acme/1', 'x-acme-event': 'order.paid', 'x-acme-id': 'a-1', 'x-region': 'eu-west-1', 'x-acme-auth-version': '2' });
  });

  it.each(['X-Hub-Signature', 'Stripe-Signature', 'Authorization', 'Cookie', 'X-Shopify-Hmac-Sha256', 'X-Acme-Signature'])('refuses keepHeaders and forwardHeaders naming %s', async (name) => {
    const source = await gql('mutation($keep: [String!]) { createSource(input: { name: "k", slug: "keep-bad", preset: GITHUB, secret: "s", keepHeaders: $keep }) { id } }', { keep: [name] });
    expect(source.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'keepHeaders' });
    const relay = await gql('mutation { createRelay(input: { name: "r", url: "http://127.0.0.1:9/" }) { relay { id } } }');
    const subscription = await gql('mutation($relay: ID!, $forward: [String!]) { createSubscription(input: { relayId: $relay, eventTypes: ["*"], forwardHeaders: $forward }) { id } }', {
      relay: relay.data!.createRelay.relay.id, forward: ['X-GitHub-Event', name],
    });
    expect(subscription.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'forwardHeaders' });
    expect(subscription.errors?.[0]?.message).toContain(name);
  });
});

describe('the migration that scrubs rows stored before', () => {
  it('removes signature and credential headers from events and cuts stored outbound signatures', async () => {
    const make = fixtures(app.orm, app.keyring);
    const source = await make.source({ slug: 'old-acme', preset: 'HMAC', secret: 's', signatureHeader: 'X-Acme-Auth' });
    const { relay } = await make.relay({ url: 'http://127.0.0.1:9/' });
    const [generic, custom] = [randomUUID(), randomUUID()];
    await app.pool.query(
      `insert into event (id, source_id, type, headers, body, received_at) values
         ($1, null, 't', $3, '', now()), ($2, $4, 't', $5, '', now())`,
      [
        generic, custom,
        JSON.stringify({ 'x-github-event': 'push', 'x-hub-signature': 'sha1=aa', 'x-hub-signature-256': 'sha256=bb', 'stripe-signature': 't=1,v1=cc', 'webhook-signature': 'v1,dd', 'x-shopify-hmac-sha256': 'ee', hmacsignature: 'ff', authorization: 'Basic x', cookie: 'c=1' }),
        source.id, JSON.stringify({ 'x-acme-auth': 'abc', 'x-acme-id': '1' }),
      ],
    );
    const deliveryId = randomUUID();
    await app.pool.query(`insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at) values ($1, $2, $3, 'SUCCEEDED', 1, now(), now())`, [deliveryId, generic, relay.id]);
    const signature = 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    await app.pool.query(
      `insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers) values ($1, $2, 1, now(), 5, $3)`,
      [randomUUID(), deliveryId, JSON.stringify({ 'webhook-signature': signature, 'webhook-id': 'msg_1' })],
    );

    for (const sql of SCRUB_SIGNATURES_SQL) await app.pool.query(sql);
    for (const sql of SCRUB_SIGNATURES_SQL) await app.pool.query(sql); // a second run changes nothing

    expect(await storedHeaders(generic)).toEqual({ 'x-github-event': 'push' });
    expect(await storedHeaders(custom)).toEqual({ 'x-acme-id': '1' });
    const { rows } = await app.pool.query<{ request_headers: Record<string, string> }>('select request_headers from attempt where delivery_id = $1', [deliveryId]);
    expect(rows[0]!.request_headers).toEqual({ 'webhook-signature': 'v1,…pI4= v1,…1OE=', 'webhook-id': 'msg_1' });
  });
});

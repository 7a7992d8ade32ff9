import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { buildSchema, getNamedType, isObjectType, parse, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { subscribe, type LiveSubscription } from '../helpers/ws.js';
import { postGraphQL } from '../helpers/graphql.js';
import { serveTunnels } from '../helpers/tunnel.js';

/**
 * A full scenario with every kind of secret Hookyard is given, then everything a READ token
 * can see (every root query and subscription, every field) and every log line of the app at
 * trace level, scanned for each secret and each full signature: none may appear.
 */

const random = (bytes = 18) => randomBytes(bytes).toString('base64url');
const secrets = new Map<string, string>();
function secret<T extends string>(label: string, value: T): T {
  secrets.set(label, value);
  return value;
}
const signatures = new Set<string>();
function signature(value: string): string {
  signatures.add(value);
  return value;
}

const ghSecret = secret('GitHub source secret', `gh-${random()}`);
const stripeSecret = secret('Stripe source secret', `whsec_${random()}`);
const swKey = randomBytes(24).toString('base64');
const swSecret = secret('Standard Webhooks source secret', `whsec_${swKey}`);
secret('Standard Webhooks key (base64)', swKey);
const shopifySecret = secret('Shopify source secret', `shp-${random()}`);
const adyenKey = secret('Adyen HMAC key', randomBytes(32).toString('hex').toUpperCase());
secret('Adyen HMAC key (lower case)', adyenKey.toLowerCase());
const adyenPassword = secret('Adyen Basic password', `adyen-pw-${random()}`);
const slackSecret = secret('Slack signing secret', `slack-${random()}`);
const twilioSecret = secret('Twilio auth token', `twilio-${random()}`);
const hmacSecret = secret('HMAC source secret', `acme-${random()}`);
const hmacPassword = secret('HMAC Basic password', `acme-pw-${random()}`);
const cookieSecret = secret('a cookie sent with a webhook', `session-${random()}`);
const headerValue = secret('relay extra-header value', `key-${random()}`);
const relayKey = randomBytes(32).toString('base64');
const relaySigningSecret = secret('relay signing secret', `whsec_${relayKey}`);
secret('relay signing key (base64)', relayKey);
const urlPassword = secret('relay URL password', `urlpw-${random()}`);
const pathSecret = secret('relay URL path credential', `XXpath${random()}`);
const querySecret = secret('relay URL query credential', `qq${random()}`);
const redirectSecret = secret('failing relay URL path credential', `XXredir${random()}`);
const proxyPassword = secret('proxy password', `proxypw-${random()}`);
secret('admin token', TEST_ADMIN_TOKEN);

const logLines: string[] = [];
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

let app: App;
let sink: Sink;
let failing: Sink;
let proxy: { url: string; requests: number; close(): Promise<void> };
let readToken: string;

/** A forward proxy: CONNECT tunnels (how Hookyard always uses a proxy), counted; absolute-form requests too. */
async function startProxy(): Promise<typeof proxy> {
  const state = { requests: 0 };
  const server = createServer((request, response) => {
    state.requests += 1;
    const target = new URL(request.url ?? '/');
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: request.method, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  const tunnels = serveTunnels(server, { onTunnel: () => (state.requests += 1) });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise((done) => {
      tunnels.destroyAll();
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token = TEST_ADMIN_TOKEN): Promise<{ data: T; text: string }> {
  const { data, errors, text } = await postGraphQL(app.url, query, variables, token);
  expect(errors, text).toBeUndefined();
  return { data: data as T, text };
}

async function ingest(slug: string, body: string, headers: Record<string, string>, query = ''): Promise<void> {
  const response = await fetch(`${app.url}/ingest/${slug}${query}`, { method: 'POST', headers, body });
  expect(response.status, `${slug}: ${await response.clone().text()}`).toBe(200);
}

const hmac = (algorithm: string, key: string | Buffer, data: string) => createHmac(algorithm, key).update(data);
const now = () => String(Math.floor(Date.now() / 1000));

/** Every field of a type, objects expanded to `depth`; list fields get `first: 100`. */
function selection(type: GraphQLObjectType, depth: number): string {
  const fields = Object.values(type.getFields()).flatMap((field: GraphQLField<unknown, unknown>) => {
    if (field.args.some((arg) => arg.name !== 'first' && arg.name !== 'after' && arg.type.toString().endsWith('!'))) return [];
    const args = field.args.some((arg) => arg.name === 'first') ? '(first: 100)' : '';
    const named = getNamedType(field.type);
    if (!isObjectType(named)) return [`${field.name}${args}`];
    return depth > 0 ? [`${field.name}${args} { ${selection(named, depth - 1)} }`] : [];
  });
  return fields.join(' ');
}

const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

/** The labels of every secret and signature found in `text`. */
function leaks(text: string): string[] {
  const found = [...secrets].filter(([, value]) => text.includes(value)).map(([label]) => label);
  for (const value of signatures) if (text.includes(value)) found.push(`signature ${value}`);
  return found;
}

beforeAll(async () => {
  [sink, failing, proxy] = await Promise.all([startSink(), startSink(), startProxy()]);
  failing.answer = () => ({ status: 301, headers: { location: `https://example.com/services/${redirectSecret}` } });
  app = await startTestApp(await createTestDatabase(), { LOG_LEVEL: 'trace' }, {}, logDestination);
});

afterAll(async () => {
  await Promise.all([sink?.close(), failing?.close(), proxy?.close()]);
});

describe('what a READ token and the logs show of a full scenario', () => {
  const live: LiveSubscription<unknown>[] = [];
  const responses: string[] = [];

  it('runs the scenario: every preset signed, delivered through a proxy, a failing relay, a rotation', async () => {
    const token = await gql(`mutation { createApiToken(input: { name: "dashboard", scope: READ }) { token } }`);
    readToken = secret('READ token', token.data.createApiToken.token as string);

    const sources: Record<string, Record<string, unknown>> = {
      github: { preset: 'GITHUB', secret: ghSecret },
      stripe: { preset: 'STRIPE', secret: stripeSecret },
      standard: { preset: 'STANDARD_WEBHOOKS', secret: swSecret },
      shopify: { preset: 'SHOPIFY', secret: shopifySecret },
      adyen: { preset: 'ADYEN', secret: adyenKey, basicAuthUsername: 'adyen', basicAuthPassword: adyenPassword },
      slack: { preset: 'SLACK', secret: slackSecret },
      twilio: { preset: 'TWILIO', secret: twilioSecret, publicUrl: `${app.url}/ingest/twilio` },
      acme: {
        preset: 'HMAC', secret: hmacSecret, signatureHeader: 'X-Acme-Signature', signaturePrefix: 'sha256=',
        eventTypeFrom: 'header:X-Acme-Event', idempotencyKeyFrom: 'header:X-Acme-Id', basicAuthUsername: 'acme', basicAuthPassword: hmacPassword,
      },
    };
    for (const [slug, input] of Object.entries(sources)) {
      await gql('mutation($input: CreateSourceInput!) { createSource(input: $input) { id } }', { input: { name: slug, slug, ...input } });
    }

    const sinkPort = new URL(sink.url).port;
    const relayUrl = `http://relayuser:${urlPassword}@127.0.0.1:${sinkPort}/services/T0001/${pathSecret}?token=${querySecret}`;
    const proxyUrl = `http://proxyuser:${proxyPassword}@${new URL(proxy.url).host}`;
    const vault = await gql(
      'mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } signingSecret } }',
      { input: { name: 'vault', url: relayUrl, proxyUrl, signingSecret: relaySigningSecret, headers: [{ name: 'X-Api-Key', value: headerValue }] } },
    );
    const vaultId = vault.data.createRelay.relay.id as string;
    const broken = await gql(
      'mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } signingSecret } }',
      { input: { name: 'broken', url: `${failing.url}/services/${redirectSecret}`, retrySchedule: [] } },
    );
    secret('failing relay signing secret', broken.data.createRelay.signingSecret as string);
    const brokenId = broken.data.createRelay.relay.id as string;
    await gql('mutation($relay: ID!) { createSubscription(input: { relayId: $relay, eventTypes: ["*"], forwardHeaders: ["x-github-event", "x-acme-id"] }) { id } }', { relay: vaultId });
    await gql('mutation($relay: ID!) { createSubscription(input: { relayId: $relay, eventTypes: ["fail.*"] }) { id } }', { relay: brokenId });
    // An email relay's SMTP password: opened for its attempt (which fails: nothing listens on port 9).
    const mailbox = await gql('mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } signingSecret } }', { input: {
      name: 'mailbox', kind: 'EMAIL', retrySchedule: [],
      email: { host: '127.0.0.1', port: 9, tls: 'STARTTLS', username: 'mailer', password: secret('SMTP password', `smtp-${random()}`), from: 'hookyard@example.com', to: ['ops@example.com'] },
    } });
    secret('email relay signing secret', mailbox.data.createRelay.signingSecret as string);
    await gql('mutation($relay: ID!) { createSubscription(input: { relayId: $relay, eventTypes: ["fail.*"] }) { id } }', { relay: mailbox.data.createRelay.relay.id });

    // A READ token watching everything live, before anything happens.
    const subscriptionType = schema.getSubscriptionType()!;
    for (const field of Object.values(subscriptionType.getFields())) {
      const sub = subscribe(app.url, parse(`subscription { ${field.name} { ${selection(getNamedType(field.type) as GraphQLObjectType, 4)} } }`), {}, `Bearer ${readToken}`);
      live.push(sub);
      await sub.connected;
    }
    await waitUntil(() => (app.liveSubscribers() === live.length ? true : undefined), 10_000, 'the live subscriptions to register');

    // GitHub sends both signatures; the SHA-1 one must not be kept either.
    const ghBody = '{"zen":"Keep it logically awesome."}';
    await ingest('github', ghBody, {
      'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), cookie: `session=${cookieSecret}`,
      'x-hub-signature-256': `sha256=${signature(hmac('sha256', ghSecret, ghBody).digest('hex'))}`,
      'x-hub-signature': `sha1=${signature(hmac('sha1', ghSecret, ghBody).digest('hex'))}`,
    });
    const stripeBody = JSON.stringify({ id: `evt_${random()}`, type: 'payment_intent.succeeded', data: { object: { amount: 1200 } } });
    const t = now();
    await ingest('stripe', stripeBody, { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${signature(hmac('sha256', stripeSecret, `${t}.${stripeBody}`).digest('hex'))}` });
    const swBody = '{"type":"user.created","data":{"id":"u_1"}}';
    const msgId = `msg_${random()}`;
    await ingest('standard', swBody, {
      'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': t,
      'webhook-signature': `v1,${signature(hmac('sha256', Buffer.from(swKey, 'base64'), `${msgId}.${t}.${swBody}`).digest('base64'))}`,
    });
    const shopifyBody = '{"id":820982911946154508,"email":"jon@example.com"}';
    await ingest('shopify', shopifyBody, {
      'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': random(), 'x-shopify-shop-domain': 'shop.myshopify.com',
      'x-shopify-hmac-sha256': signature(hmac('sha256', shopifySecret, shopifyBody).digest('base64')),
    });
    const psp = random(8);
    const itemSignature = signature(hmac('sha256', Buffer.from(adyenKey, 'hex'), `${psp}::TestMerchant:order-1:1130:EUR:AUTHORISATION:true`).digest('base64'));
    const adyenBody = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
      additionalData: { hmacSignature: itemSignature }, amount: { currency: 'EUR', value: 1130 }, eventCode: 'AUTHORISATION',
      merchantAccountCode: 'TestMerchant', merchantReference: 'order-1', pspReference: psp, success: 'true',
    } }] });
    await ingest('adyen', adyenBody, { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`adyen:${adyenPassword}`).toString('base64')}` });
    const slackBody = JSON.stringify({ type: 'event_callback', event_id: `Ev${random(6)}`, event: { type: 'app_mention', text: 'hi' } });
    await ingest('slack', slackBody, { 'content-type': 'application/json', 'x-slack-request-timestamp': t, 'x-slack-signature': `v0=${signature(hmac('sha256', slackSecret, `v0:${t}:${slackBody}`).digest('hex'))}` });
    const sid = `SM${random(8)}`;
    const twilioBody = new URLSearchParams({ Body: 'Hello', From: '+15005550006', MessageSid: sid }).toString();
    await ingest('twilio', twilioBody, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature(hmac('sha1', twilioSecret, `${app.url}/ingest/twilioBodyHelloFrom+15005550006MessageSid${sid}`).digest('base64')),
    });
    const acmeBody = '{"type":"invoice.paid","id":"in_1"}';
    const acmeHeaders = {
      'content-type': 'application/json', 'x-acme-event': 'invoice.paid', 'x-acme-id': random(),
      authorization: `Basic ${Buffer.from(`acme:${hmacPassword}`).toString('base64')}`,
      'x-acme-signature': `sha256=${signature(hmac('sha256', hmacSecret, acmeBody).digest('hex'))}`,
    };
    await ingest('acme', acmeBody, acmeHeaders);

    // Refused requests: a wrong signature, and right credentials with a missing signature.
    const forged = signature(randomBytes(32).toString('hex'));
    const refused = await fetch(`${app.url}/ingest/github`, { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${forged}` }, body: ghBody });
    expect(refused.status).toBe(401);
    const { 'x-acme-signature': _drop, ...unsigned } = acmeHeaders;
    expect((await fetch(`${app.url}/ingest/acme`, { method: 'POST', headers: unsigned, body: acmeBody })).status).toBe(401);

    await sink.waitFor(8);
    // Tunnels are kept alive: one CONNECT may carry several deliveries.
    expect(proxy.requests).toBeGreaterThanOrEqual(1);
    // A rotation: two signatures in one header, then a published event and a failing relay.
    const rotated = await gql('mutation($id: ID!) { rotateRelaySecret(id: $id, graceSeconds: 3600) { signingSecret } }', { id: vaultId });
    secret('rotated relay signing secret', rotated.data.rotateRelaySecret.signingSecret as string);
    await gql('mutation { publishEvent(type: "fail.now", payload: { n: 1 }) { id } }');
    await sink.waitFor(9);
    await waitUntil(async () => {
      const { data } = await gql('{ deliveries(first: 100) { edges { node { status } } } }');
      const statuses = (data.deliveries.edges as { node: { status: string } }[]).map((edge) => edge.node.status);
      return statuses.length === 11 && statuses.every((status) => status === 'SUCCEEDED' || status === 'DEAD') ? true : undefined;
    }, 20_000, 'every delivery to settle');
    for (const received of sink.received) {
      for (const entry of String(received.headers['webhook-signature']).split(' ')) signature(entry.slice('v1,'.length));
    }
    expect(signatures.size).toBeGreaterThanOrEqual(20);
    await gql('mutation($id: ID!) { disableRelay(id: $id, reason: "scan") { id } }', { id: brokenId });
    await waitUntil(() => ((live.at(-1)!.results.length > 0) ? true : undefined), 10_000, 'relayStatusChanged');
  });

  it('no READ query response carries a secret or a full signature', async () => {
    const query = schema.getQueryType()!;
    const ids = await gql('{ sources { id } relays { id } subscriptions { id } events(first: 100) { edges { node { id } } } deliveries(first: 100) { edges { node { id } } } }', {}, readToken);
    const delivery = ids.data.deliveries.edges.map((edge: { node: { id: string } }) => edge.node.id);
    // The pages of 25 below hold every row.
    expect(Math.max(ids.data.events.edges.length, delivery.length)).toBeLessThanOrEqual(25);
    const args: Record<string, string[]> = {
      source: ids.data.sources.map((s: { id: string }) => `id: "${s.id}"`),
      relay: ids.data.relays.map((r: { id: string }) => `id: "${r.id}"`),
      subscription: ids.data.subscriptions.map((s: { id: string }) => `id: "${s.id}"`),
      event: ids.data.events.edges.map((edge: { node: { id: string } }) => `id: "${edge.node.id}"`),
      delivery: delivery.map((id: string) => `id: "${id}"`),
      attempts: delivery.map((id: string) => `deliveryId: "${id}", first: 100`),
    };
    for (const field of Object.values(query.getFields())) {
      const type = getNamedType(field.type);
      const selected = isObjectType(type) ? ` { ${selection(type, 5)} }` : '';
      // Every field five levels deep is far from a console page: pages of 25 stay within the
      // cost limit (HOOKYARD_GRAPHQL_MAX_COST) and still hold every row of this scenario.
      const calls = args[field.name] ?? [field.args.some((arg) => arg.name === 'first') ? 'first: 25' : ''];
      // The audit log is for ADMIN tokens only (READ gets FORBIDDEN): scanned as ADMIN, since no
      // token may read a secret there either.
      const token = field.name === 'auditLog' ? undefined : readToken;
      for (const call of calls) {
        const { text } = await gql(`{ ${field.name}${call ? `(${call})` : ''}${selected} }`, {}, token);
        responses.push(text);
      }
    }
    const all = responses.join('\n');
    // The scan sees real data: the events' bodies, the attempts' headers, the relays.
    expect(all).toContain('Keep it logically awesome');
    expect(all).toContain('webhook-signature');
    expect(all).toContain('x-github-event');
    // What READ sees instead: masked URLs, truncated signatures.
    expect(all).toContain(`"url":"http://127.0.0.1:${new URL(sink.url).port}/***"`);
    expect(all).toMatch(/"webhook-signature":"v1,…[^ "]{4} v1,…[^ "]{4}"/);
    expect(leaks(all)).toEqual([]);
    // ADMIN sees the URL it saved.
    const admin = await gql('{ relays { name url } }');
    expect(admin.data.relays.find((relay: { name: string }) => relay.name === 'vault').url).toContain(pathSecret);
  });

  it('no live update to a READ token carries a secret or a full signature', async () => {
    const all = JSON.stringify(live.map((sub) => [sub.results, sub.errors]));
    expect(live.every((sub) => sub.results.length > 0 && sub.errors.length === 0), all.slice(0, 2000)).toBe(true);
    await Promise.all(live.map((sub) => sub.dispose()));
    expect(leaks(all)).toEqual([]);
  });

  it('no log line carries a secret or a full signature', () => {
    const all = logLines.join('');
    expect(all).toContain('Hookyard is ready');
    expect(leaks(all)).toEqual([]);
  });
});

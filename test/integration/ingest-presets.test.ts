import { createHmac, randomBytes } from 'node:crypto';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilioSdk from 'twilio';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Source, SourcePreset } from '../../src/db/entities/source.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';

/**
 * Every preset over real HTTP against a real Hookyard and PostgreSQL. Valid requests are made
 * by each provider's official library (Shopify and Slack publish no signer: computed as their
 * documentation says); every refusal must leave one rejected_request row and nothing else.
 */

const { getExpectedTwilioSignature, getExpectedBodyHash } = twilioSdk;
const stripeWebhooks = new Stripe('sk_test_unused').webhooks;
const adyenValidator = new HmacValidator();

// The test key of Adyen's HMAC documentation and library tests, and its published answer.
const ADYEN_KEY = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';
const ADYEN_OTHER_KEY = 'a'.repeat(64);
const ADYEN_EXAMPLE_SIGNATURE = 'coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=';
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_OTHER = 'whsec_aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=';
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TWILIO_URL = 'https://hooks.example.test/ingest/tw';
const TWILIO_JSON_URL = 'https://hooks.example.test/ingest/tw-json';
const FORM = 'application/x-www-form-urlencoded';

let app: App;
let fx: Fixtures;

/** One request as sent: raw body, headers, optional `?query` and content type. */
interface Signed { body: string | Buffer; headers: Record<string, string>; query?: string; contentType?: string }
interface SignOpts { id: string; secret: string; at: number }
type SourceSettings = { preset: SourcePreset } & Partial<Omit<Source, 'secrets' | 'slug' | 'preset'>>;

interface PresetCase {
  name: string;
  slug: string;
  secret: string;
  otherSecret: string;
  settings: SourceSettings;
  /** A valid request for a fresh id, signed with `secret` at `at`. */
  make(o: SignOpts): Signed | Promise<Signed>;
  type: string;
  key(id: string): string | null;
  /** Headers whose absence is MISSING_SIGNATURE: the signature, then any id or timestamp header. */
  required: string[];
  /** Timestamped schemes: `past` accepts any future time (Stripe, Slack), `both` refuses it. */
  window?: 'past' | 'both';
  /** A required event-type header (400 MISSING_HEADER when absent). */
  eventTypeHeader?: string;
  /** Changes one signed byte (default: the last byte of the body). */
  tamper?(body: string | Buffer): Buffer;
  /** For signatures carried in the body (Adyen): the same request without it. */
  unsigned?(o: SignOpts): Signed;
}

const now = () => Math.floor(Date.now() / 1000);
const fresh = () => randomBytes(8).toString('hex');

function flipLastByte(body: string | Buffer): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length - 1]! ^= 1;
  return bytes;
}

function without(request: Signed, name: string): Signed {
  const headers = { ...request.headers };
  delete headers[name];
  return { ...request, headers };
}

// ---- signers, one per provider ------------------------------------------------------------

type AdyenItem = Record<string, unknown> & { additionalData: Record<string, unknown> };

/** Adyen's documented example item, signed by @adyen/api-library. */
function adyenItem(overrides: Record<string, unknown> = {}, key = ADYEN_KEY): AdyenItem {
  const unsigned = {
    pspReference: '7914073381342284', merchantAccountCode: 'TestMerchant', merchantReference: 'TestPayment-1407325143704',
    amount: { value: 1130, currency: 'EUR' }, eventCode: 'AUTHORISATION', success: 'true', additionalData: {}, ...overrides,
  } as AdyenItem;
  return { ...unsigned, additionalData: { ...unsigned.additionalData, hmacSignature: adyenValidator.calculateHmac(unsigned as never, key) } };
}

const adyenNotification = (...items: AdyenItem[]) => JSON.stringify({ live: 'false', notificationItems: items.map((item) => ({ NotificationRequestItem: item })) });

/** As Slack documents it: `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>`. */
function slackHeaders(body: string, secret: string, at: number): Record<string, string> {
  const mac = createHmac('sha256', secret).update(`v0:${at}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${mac}`, 'x-slack-request-timestamp': String(at) };
}

function standardWebhooksCase(prefix: 'webhook' | 'svix'): PresetCase {
  const [id, timestamp, signature] = [`${prefix}-id`, `${prefix}-timestamp`, `${prefix}-signature`];
  return {
    name: `STANDARD_WEBHOOKS (${prefix}-* headers)`, slug: `sw-${prefix}`, secret: SW_SECRET, otherSecret: SW_OTHER, settings: { preset: 'STANDARD_WEBHOOKS' },
    make: (o) => {
      const body = `{"type":"invoice.paid","data":{"id":"in_${o.id}"}}`;
      return { body, headers: { [id]: `msg_${o.id}`, [timestamp]: String(o.at), [signature]: new Webhook(o.secret).sign(`msg_${o.id}`, new Date(o.at * 1000), body) } };
    },
    type: 'invoice.paid', key: (key) => `msg_${key}`, required: [signature, id, timestamp], window: 'both',
  };
}

/** As Shopify documents it: base64 HMAC-SHA256 of the raw body under the app secret. */
function shopifyCase(prefix: 'x-' | ''): PresetCase {
  return {
    name: `SHOPIFY (${prefix ? 'X-Shopify-*' : 'shopify-*'} headers)`, slug: `shopify${prefix ? '-x' : ''}`, secret: 'shpss_app_secret', otherSecret: 'not-the-secret',
    settings: { preset: 'SHOPIFY' },
    make: (o) => {
      // An 18-digit id: a JSON round trip would change it; signing the raw bytes does not.
      const body = `{"id":820982911946154508,"email":"jon@example.com","note":"${o.id}"}`;
      return {
        body,
        headers: {
          [`${prefix}shopify-hmac-sha256`]: createHmac('sha256', o.secret).update(body).digest('base64'),
          [`${prefix}shopify-topic`]: 'orders/create', [`${prefix}shopify-webhook-id`]: o.id, [`${prefix}shopify-shop-domain`]: 'shop.myshopify.com',
        },
      };
    },
    type: 'orders/create', key: (id) => id, required: [`${prefix}shopify-hmac-sha256`], eventTypeHeader: `${prefix}shopify-topic`,
  };
}

const CASES: PresetCase[] = [
  {
    name: 'GITHUB', slug: 'gh', secret: 'gh-secret', otherSecret: 'not-the-secret', settings: { preset: 'GITHUB' },
    make: async (o) => {
      const body = `{"action":"opened","issue":{"number":1,"title":"${o.id}"}}`;
      return { body, headers: { 'x-github-event': 'issues', 'x-github-delivery': o.id, 'x-hub-signature-256': await sign(o.secret, body) } };
    },
    type: 'issues', key: (id) => id, required: ['x-hub-signature-256'], eventTypeHeader: 'x-github-event',
  },
  {
    name: 'STRIPE', slug: 'stripe', secret: 'whsec_test_secret_for_hookyard', otherSecret: 'whsec_other', settings: { preset: 'STRIPE' },
    make: (o) => {
      const body = JSON.stringify({ id: `evt_${o.id}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { amount: 2000 } } });
      return { body, headers: { 'stripe-signature': stripeWebhooks.generateTestHeaderString({ payload: body, secret: o.secret, timestamp: o.at }) } };
    },
    type: 'payment_intent.succeeded', key: (id) => `evt_${id}`, required: ['stripe-signature'], window: 'past',
  },
  standardWebhooksCase('webhook'),
  standardWebhooksCase('svix'),
  shopifyCase('x-'),
  shopifyCase(''),
  {
    name: 'ADYEN', slug: 'adyen', secret: ADYEN_KEY, otherSecret: ADYEN_OTHER_KEY, settings: { preset: 'ADYEN' },
    make: (o) => ({ body: adyenNotification(adyenItem({ pspReference: o.id }, o.secret)), headers: {} }),
    unsigned: (o) => ({ body: adyenNotification({ ...adyenItem({ pspReference: o.id }), additionalData: {} }), headers: {} }),
    tamper: (body) => Buffer.from(String(body).replace('"value":1130', '"value":1131')),
    type: 'AUTHORISATION', key: (id) => `${id}:AUTHORISATION:true`, required: [],
  },
  {
    name: 'SLACK', slug: 'slack', secret: SLACK_SECRET, otherSecret: 'not-the-secret', settings: { preset: 'SLACK' },
    make: (o) => {
      const body = JSON.stringify({ type: 'event_callback', event_id: `Ev${o.id}`, event: { type: 'app_mention', text: 'hi' } });
      return { body, headers: slackHeaders(body, o.secret, o.at) };
    },
    type: 'app_mention', key: (id) => `Ev${id}`, required: ['x-slack-signature', 'x-slack-request-timestamp'], window: 'past',
  },
  {
    name: 'TWILIO (form post)', slug: 'tw', secret: 'twilio-auth-token', otherSecret: 'not-the-token', settings: { preset: 'TWILIO', publicUrl: TWILIO_URL },
    make: (o) => {
      const params = { MessageSid: `SM${o.id}`, Body: 'Hello wörld!', From: '+12349013030', To: '+18005551212' };
      const query = '?foo=1&bar=2';
      return {
        body: new URLSearchParams(params).toString(), contentType: FORM, query,
        headers: { 'x-twilio-signature': getExpectedTwilioSignature(o.secret, `${TWILIO_URL}${query}`, params), 'i-twilio-idempotency-token': o.id },
      };
    },
    type: 'twilio', key: (id) => id, required: ['x-twilio-signature'],
  },
  {
    name: 'TWILIO (JSON with bodySHA256)', slug: 'tw-json', secret: 'twilio-auth-token', otherSecret: 'not-the-token',
    settings: { preset: 'TWILIO', publicUrl: TWILIO_JSON_URL },
    make: (o) => {
      const body = JSON.stringify({ AccountSid: 'AC1', EventType: 'com.twilio.messaging.message.delivered', Sid: o.id });
      const query = `?bodySHA256=${getExpectedBodyHash(body)}`;
      return { body, query, headers: { 'x-twilio-signature': getExpectedTwilioSignature(o.secret, `${TWILIO_JSON_URL}${query}`, {}), 'i-twilio-idempotency-token': o.id } };
    },
    type: 'twilio', key: (id) => id, required: ['x-twilio-signature'],
  },
  {
    name: 'HMAC', slug: 'hmac', secret: 'hmac-secret', otherSecret: 'not-the-secret',
    settings: { preset: 'HMAC', signaturePrefix: 'sha256=', eventTypeFrom: 'query:event_type', idempotencyKeyFrom: 'header:X-Request-Id' },
    make: async (o) => {
      const body = `{"order":"${o.id}"}`;
      return { body, query: '?event_type=order.created', headers: { 'x-signature': await sign(o.secret, body), 'x-request-id': o.id } };
    },
    type: 'order.created', key: (id) => id, required: ['x-signature'],
  },
  {
    name: 'HMAC (with a timestamp header)', slug: 'hmac-ts', secret: 'hmac-ts-secret', otherSecret: 'not-the-secret',
    settings: { preset: 'HMAC', signatureHeader: 'X-Acme-Signature', signaturePrefix: 'sha256=', timestampHeader: 'X-Acme-Timestamp', idempotencyKeyFrom: 'json:$.id' },
    make: async (o) => {
      const body = `{"id":"${o.id}"}`;
      return { body, headers: { 'x-acme-signature': await sign(o.secret, `${o.at}.${body}`), 'x-acme-timestamp': String(o.at) } };
    },
    type: 'webhook', key: (id) => id, required: ['x-acme-signature', 'x-acme-timestamp'], window: 'both',
  },
];

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  fx = fixtures(app.orm, app.keyring);
  for (const c of CASES) await fx.source({ slug: c.slug, secret: c.secret, ...c.settings });
  await fx.source({ slug: 'adyen-basic', preset: 'ADYEN', secret: ADYEN_KEY, basicAuthUsername: 'adyen', basicAuthPassword: 'pw' });
  // A catch-all subscription, so every accepted event also makes one delivery (the api role runs no worker).
  const { relay } = await fx.relay({ url: 'http://127.0.0.1:9/never-called' });
  await fx.subscription({ relay, eventTypes: ['*'] });
});

// ---- HTTP and database helpers ----------------------------------------------------------------

interface Answer {
  status: number;
  text: string;
  json: { id?: string; status?: string; challenge?: string; error?: { code: string; message: string } } | undefined;
  headers: Headers;
}

async function post(slug: string, request: Signed): Promise<Answer> {
  const response = await fetch(`${app.url}/ingest/${slug}${request.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': request.contentType ?? 'application/json', ...request.headers },
    body: request.body,
  });
  const text = await response.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

interface Counts { events: number; deliveries: number; rejected: number }

async function counts(): Promise<Counts> {
  const { rows } = await app.pool.query<Record<keyof Counts, string>>(`select
    (select count(*) from event) as events, (select count(*) from delivery) as deliveries, (select coalesce(sum(count), 0) from rejected_request) as rejected`);
  const row = rows[0]!;
  return { events: Number(row.events), deliveries: Number(row.deliveries), rejected: Number(row.rejected) };
}

interface EventRow { id: string; type: string; idempotency_key: string | null; headers: Record<string, string>; body: Buffer }

async function eventsWhere(condition: string, params: unknown[]): Promise<EventRow[]> {
  const { rows } = await app.pool.query<EventRow>(`select id, type, idempotency_key, headers, body from event where ${condition} order by received_at, id`, params);
  return rows;
}

const eventsOfSlug = (slug: string, condition: string, params: unknown[]) =>
  eventsWhere(`source_id = (select id from source where slug = $1) and ${condition}`, [slug, ...params]);

/** Refused with this status and reason: counted once in the rejected-request log (written in the background), no event or delivery. */
async function expectRefused(slug: string, request: Signed, status: number, reason: string): Promise<Answer> {
  const before = await counts();
  const answer = await post(slug, request);
  expect(answer.status, answer.text).toBe(status);
  expect(answer.json).toEqual({ error: { code: reason, message: expect.any(String) } });
  await expect.poll(counts, { timeout: 10_000 }).toEqual({ ...before, rejected: before.rejected + 1 });
  const { rows } = await app.pool.query('select slug, reason, status, source_id from rejected_request where slug = $1 and reason = $2', [slug, reason]);
  expect(rows[0]).toEqual({ slug, reason, status, source_id: expect.any(String) });
  return answer;
}

/** Accepted as one new event (with its delivery) of the case's type and key. */
async function expectAccepted(c: PresetCase, request: Signed, id: string): Promise<{ answer: Answer; row: EventRow }> {
  const before = await counts();
  const answer = await post(c.slug, request);
  expect(answer.status, answer.text).toBe(200);
  let row: EventRow | undefined;
  if (c.settings.preset === 'ADYEN') {
    expect(answer.text).toBe('[accepted]');
    row = (await eventsOfSlug(c.slug, 'idempotency_key = $2', [c.key(id)]))[0];
  } else {
    expect(answer.json).toEqual({ id: expect.any(String), status: 'accepted' });
    row = (await eventsWhere('id = $1', [answer.json!.id]))[0];
  }
  expect(row).toMatchObject({ type: c.type, idempotency_key: c.key(id) });
  expect(await counts()).toEqual({ ...before, events: before.events + 1, deliveries: before.deliveries + 1 });
  return { answer, row: row! };
}

// ---- every preset: valid, duplicate, and each kind of refusal -----------------------------------

describe.each(CASES)('$name', (c) => {
  const signed = (o: Partial<SignOpts> = {}) => c.make({ id: fresh(), secret: c.secret, at: now(), ...o });

  it('accepts a valid request with the default type and key, and answers a repeat as a duplicate', async () => {
    const id = fresh();
    const request = await c.make({ id, secret: c.secret, at: now() });
    const { answer, row } = await expectAccepted(c, request, id);
    // Signature headers are never stored.
    for (const name of c.required.slice(0, 1)) expect(row.headers[name]).toBeUndefined();

    const before = await counts();
    const again = await post(c.slug, request);
    expect(again.status).toBe(200);
    if (c.settings.preset === 'ADYEN') expect(again.text).toBe('[accepted]');
    else expect(again.json).toEqual({ id: answer.json!.id, status: 'duplicate' });
    expect(await counts()).toEqual(before);
    expect(await eventsOfSlug(c.slug, 'idempotency_key = $2', [c.key(id)])).toHaveLength(1);
  });

  it('refuses a signature made with a wrong secret', async () => {
    await expectRefused(c.slug, await signed({ secret: c.otherSecret }), 401, 'INVALID_SIGNATURE');
  });

  it('refuses a body with one changed byte', async () => {
    const request = await signed();
    await expectRefused(c.slug, { ...request, body: (c.tamper ?? flipLastByte)(request.body) }, 401, 'INVALID_SIGNATURE');
  });

  for (const name of c.required) {
    it(`refuses a request without ${name}`, async () => {
      await expectRefused(c.slug, without(await signed(), name), 401, 'MISSING_SIGNATURE');
    });
  }

  if (c.unsigned) {
    const unsigned = c.unsigned;
    it('refuses an item without its signature', async () => {
      await expectRefused(c.slug, unsigned({ id: fresh(), secret: c.secret, at: now() }), 401, 'MISSING_SIGNATURE');
    });
  }

  if (c.window) {
    it('refuses a timestamp older than the 300 s tolerance', async () => {
      await expectRefused(c.slug, await signed({ at: now() - 400 }), 401, 'INVALID_SIGNATURE');
    });

    if (c.window === 'past') {
      it('accepts a timestamp an hour ahead (past-only window)', async () => {
        const id = fresh();
        await expectAccepted(c, await c.make({ id, secret: c.secret, at: now() + 3600 }), id);
      });
    } else {
      it('refuses a timestamp an hour ahead, and accepts one a minute ahead (± tolerance)', async () => {
        await expectRefused(c.slug, await signed({ at: now() + 3600 }), 401, 'INVALID_SIGNATURE');
        const id = fresh();
        await expectAccepted(c, await c.make({ id, secret: c.secret, at: now() + 60 }), id);
      });
    }
  }

  if (c.eventTypeHeader) {
    const name = c.eventTypeHeader;
    it(`answers 400 MISSING_HEADER naming ${name} when it is missing`, async () => {
      const answer = await expectRefused(c.slug, without(await signed(), name), 400, 'MISSING_HEADER');
      expect(answer.json!.error!.message.toLowerCase()).toContain(name);
    });
  }
});

// ---- provider extras ----------------------------------------------------------------------------

describe('ADYEN extras', () => {
  it("stores Adyen's documented example item, whose signature matches the published one", async () => {
    const item = adyenItem();
    expect(item.additionalData.hmacSignature).toBe(ADYEN_EXAMPLE_SIGNATURE);
    expect(adyenValidator.validateHMAC(item as never, ADYEN_KEY)).toBe(true);
    const adyen = CASES.find((c) => c.slug === 'adyen')!;
    await expectAccepted({ ...adyen, key: () => '7914073381342284:AUTHORISATION:true' }, { body: adyenNotification(item), headers: {} }, '');
  });

  it('makes one event per item of a batch, keyed pspReference:eventCode:success, each with its item as body', async () => {
    const [p1, p2] = [fresh(), fresh()];
    const first = adyenItem({ pspReference: p1 });
    const second = adyenItem({ pspReference: p2, originalReference: p1, eventCode: 'CAPTURE', success: 'false', amount: { value: 500, currency: 'EUR' } });
    const before = await counts();
    const answer = await post('adyen', { body: adyenNotification(first, second), headers: {} });
    expect(answer).toMatchObject({ status: 200, text: '[accepted]' });
    expect(await counts()).toEqual({ ...before, events: before.events + 2, deliveries: before.deliveries + 2 });
    const rows = await eventsOfSlug('adyen', 'idempotency_key = any($2)', [[`${p1}:AUTHORISATION:true`, `${p2}:CAPTURE:false`]]);
    const byKey = new Map(rows.map((row) => [row.idempotency_key, row]));
    expect(byKey.get(`${p1}:AUTHORISATION:true`)?.type).toBe('AUTHORISATION');
    expect(byKey.get(`${p2}:CAPTURE:false`)?.type).toBe('CAPTURE');
    // Each item is stored as sent, but without its signature: signatures are never stored.
    const unsigned = (item: typeof first) => ({ ...item, additionalData: { ...item.additionalData, hmacSignature: undefined } });
    expect(JSON.parse(byKey.get(`${p1}:AUTHORISATION:true`)!.body.toString('utf8'))).toEqual(unsigned(first));
    expect(JSON.parse(byKey.get(`${p2}:CAPTURE:false`)!.body.toString('utf8'))).toEqual(unsigned(second));
    expect(byKey.get(`${p1}:AUTHORISATION:true`)!.body.toString('utf8')).not.toContain(String(first.additionalData.hmacSignature));

    const again = await post('adyen', { body: adyenNotification(first, second), headers: {} });
    expect(again).toMatchObject({ status: 200, text: '[accepted]' });
    expect(await counts()).toEqual({ ...before, events: before.events + 2, deliveries: before.deliveries + 2 });
  });

  it('refuses a whole batch with one bad item and stores none of it', async () => {
    const good = fresh();
    await expectRefused('adyen', { body: adyenNotification(adyenItem({ pspReference: good }), adyenItem({ pspReference: fresh() }, ADYEN_OTHER_KEY)), headers: {} }, 401, 'INVALID_SIGNATURE');
    expect(await eventsOfSlug('adyen', 'idempotency_key like $2', [`${good}:%`])).toHaveLength(0);
  });

  describe('with HTTP Basic credentials configured', () => {
    const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
    const notification = () => adyenNotification(adyenItem({ pspReference: fresh() }));

    it.each([
      ['missing credentials', {}],
      ['a wrong password', basic('adyen:not-pw')],
      ['a wrong user', basic('someone:pw')],
    ])('refuses %s with 401 and WWW-Authenticate: Basic', async (_name, headers: Record<string, string>) => {
      const answer = await expectRefused('adyen-basic', { body: notification(), headers }, 401, 'INVALID_CREDENTIALS');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('accepts the right credentials and never stores them', async () => {
      const psp = fresh();
      const answer = await post('adyen-basic', { body: adyenNotification(adyenItem({ pspReference: psp })), headers: basic('adyen:pw') });
      expect(answer).toMatchObject({ status: 200, text: '[accepted]' });
      const [row] = await eventsOfSlug('adyen-basic', 'idempotency_key = $2', [`${psp}:AUTHORISATION:true`]);
      expect(row?.type).toBe('AUTHORISATION');
      expect(row?.headers.authorization).toBeUndefined();
    });
  });

  describe('platform webhooks (HmacSignature header over the raw body)', () => {
    const platformBody = (id: string) =>
      `{"data":{"balancePlatform":"YourBalancePlatform","accountHolder":{"id":"AH${id}"}},"environment":"test","type":"balancePlatform.accountHolder.created"}`;

    it('accepts one signed by @adyen/api-library: one event typed by type, no key, the raw bytes', async () => {
      const body = platformBody(fresh());
      const signature = adyenValidator.calculateHmac(body, ADYEN_KEY);
      expect(adyenValidator.validateHMACSignature(ADYEN_KEY, signature, body)).toBe(true);
      const before = await counts();
      const answer = await post('adyen', { body, headers: { hmacsignature: signature } });
      expect(answer).toMatchObject({ status: 200, text: '[accepted]' });
      expect(await counts()).toEqual({ ...before, events: before.events + 1, deliveries: before.deliveries + 1 });
      const [row] = await eventsOfSlug('adyen', 'body = $2', [Buffer.from(body)]);
      expect(row).toMatchObject({ type: 'balancePlatform.accountHolder.created', idempotency_key: null });
      expect(row?.headers.hmacsignature).toBeUndefined();
    });

    it('refuses a wrong key or a changed byte', async () => {
      const body = platformBody(fresh());
      await expectRefused('adyen', { body, headers: { hmacsignature: adyenValidator.calculateHmac(body, ADYEN_OTHER_KEY) } }, 401, 'INVALID_SIGNATURE');
      await expectRefused('adyen', { body: body.replace('"test"', '"live"'), headers: { hmacsignature: adyenValidator.calculateHmac(body, ADYEN_KEY) } }, 401, 'INVALID_SIGNATURE');
    });
  });
});

describe('SLACK extras', () => {
  it('answers a url_verification request with its challenge and stores nothing', async () => {
    const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' });
    const before = await counts();
    const answer = await post('slack', { body, headers: slackHeaders(body, SLACK_SECRET, now()) });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ challenge });
    expect(await counts()).toEqual(before);
  });

  it('refuses an unsigned url_verification request', async () => {
    const body = JSON.stringify({ challenge: 'x', type: 'url_verification' });
    await expectRefused('slack', { body, headers: slackHeaders(body, 'not-the-secret', now()) }, 401, 'INVALID_SIGNATURE');
  });

  it('stores a form-encoded slash command typed by its command field', async () => {
    const body = `token=x&team_id=T1&command=%2Fdeploy&text=api+now&trigger_id=${fresh()}&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1`;
    const answer = await post('slack', { body, contentType: FORM, headers: slackHeaders(body, SLACK_SECRET, now()) });
    expect(answer.json).toEqual({ id: expect.any(String), status: 'accepted' });
    const [row] = await eventsWhere('id = $1', [answer.json!.id]);
    expect(row).toMatchObject({ type: '/deploy', idempotency_key: null });
    expect(row!.body.toString('utf8')).toBe(body);
  });
});

describe('TWILIO extras', () => {
  const params = { MessageSid: 'SM1', From: '+12349013030', To: '+18005551212' };
  const body = new URLSearchParams(params).toString();

  it('verifies against the source publicUrl, not the URL the request reached', async () => {
    const reached = `${app.url}/ingest/tw`;
    await expectRefused('tw', { body, contentType: FORM, headers: { 'x-twilio-signature': getExpectedTwilioSignature('twilio-auth-token', reached, params) } }, 401, 'INVALID_SIGNATURE');
  });

  it("includes the request's query string in the signed URL", async () => {
    const signature = getExpectedTwilioSignature('twilio-auth-token', TWILIO_URL, params);
    await expectRefused('tw', { body, contentType: FORM, query: '?foo=1', headers: { 'x-twilio-signature': signature } }, 401, 'INVALID_SIGNATURE');
    const answer = await post('tw', { body, contentType: FORM, headers: { 'x-twilio-signature': signature } });
    expect(answer.json).toEqual({ id: expect.any(String), status: 'accepted' });
  });
});

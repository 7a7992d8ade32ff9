import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardWebhooks } from '../../../src/sources/presets/standard-webhooks.js';
import { hmac } from '../../../src/sources/verify.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=';
const NOW = 1_700_000_000;
const ID = 'msg_2Lh9KRb0pzN4LePd3XiA4xdYbyA';
const payload = '{"type":"invoice.paid","data":{"id":"in_1"}}';

const FAMILIES = [
  { prefix: 'webhook', id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
  { prefix: 'svix', id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
] as const;

function headers(family: (typeof FAMILIES)[number], opts: { secret?: string; at?: number; id?: string; signature?: string } = {}) {
  const at = opts.at ?? NOW;
  const id = opts.id ?? ID;
  const signature = opts.signature ?? new Webhook(opts.secret ?? SECRET).sign(id, new Date(at * 1000), payload);
  return { [family.id]: id, [family.timestamp]: String(at), [family.signature]: signature };
}
const verify = (h: Record<string, string>, body: string | Buffer = payload, secrets = [SECRET], now = NOW) =>
  outcome(() => standardWebhooks.verify(ingestRequest(h, body), ingestSource({ preset: 'STANDARD_WEBHOOKS', secrets }), now));

describe('STANDARD_WEBHOOKS preset', () => {
  it('matches the published Standard Webhooks test vector', () => {
    const h = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(verify(h, '{"test": 2432232314}', [SECRET], 1614265330)).toBe('OK');
  });

  describe.each(FAMILIES)('with the $prefix-* headers', (family) => {
    it('accepts what the standardwebhooks package signs, which its verifier accepts too', () => {
      const now = Math.floor(Date.now() / 1000);
      const h = headers(family, { at: now });
      expect(verify(h, payload, [SECRET], now)).toBe('OK');
      const asWebhookHeaders = { 'webhook-id': h[family.id]!, 'webhook-timestamp': h[family.timestamp]!, 'webhook-signature': h[family.signature]! };
      expect(new Webhook(SECRET).verify(payload, asWebhookHeaders)).toEqual(JSON.parse(payload));
    });

    it.each([
      ['a wrong secret', { secret: OTHER }, payload, 'INVALID_SIGNATURE'],
      ['a changed body byte', {}, flipLastByte(payload), 'INVALID_SIGNATURE'],
      ['a timestamp 301 s old', { at: NOW - 301 }, payload, 'INVALID_SIGNATURE'],
      ['a timestamp 301 s ahead', { at: NOW + 301 }, payload, 'INVALID_SIGNATURE'],
      ['a timestamp 300 s old', { at: NOW - 300 }, payload, 'OK'],
      ['a timestamp 300 s ahead', { at: NOW + 300 }, payload, 'OK'],
    ])('%s → %s', (_name, opts, body, expected) => {
      expect(verify(headers(family, opts), body)).toBe(expected);
    });

    it('refuses a request missing its signature, id or timestamp header', () => {
      for (const name of [family.signature, family.id, family.timestamp]) {
        const h: Record<string, string> = headers(family);
        delete h[name];
        expect(verify(h), name).toBe('MISSING_SIGNATURE');
      }
    });

    it('refuses malformed signatures and timestamps before decoding', () => {
      const good = headers(family)[family.signature]!;
      for (const bad of [good.slice('v1,'.length), `v1,${good.slice(4)}`, `v1 ${good.slice(3)}`, `${good}  ${good}`, `${good.slice(0, -2)}!=`, 'v2,abcd', '']) {
        expect(verify({ ...headers(family), [family.signature]: bad }), bad).toBe('MALFORMED_SIGNATURE');
      }
      expect(verify({ ...headers(family), [family.timestamp]: '1700000000.5' })).toBe('MALFORMED_SIGNATURE');
    });

    it('verifies any v1 entry under any live secret (rotation), skipping other versions', () => {
      const byOld = headers(family, { secret: OTHER })[family.signature]!;
      const byNew = headers(family)[family.signature]!;
      expect(verify({ ...headers(family), [family.signature]: `${byOld} ${byNew}` }, payload, [SECRET])).toBe('OK');
      expect(verify({ ...headers(family), [family.signature]: `${byOld} ${byNew}` }, payload, [OTHER])).toBe('OK');
      expect(verify(headers(family), payload, [OTHER, SECRET])).toBe('OK');
      expect(verify({ ...headers(family), [family.signature]: `v1a,${'A'.repeat(86)}== ${byNew}` })).toBe('OK');
      expect(verify(headers(family), payload, ['whsec_dW5yZWxhdGVk', OTHER])).toBe('INVALID_SIGNATURE');
    });

    it('reads the idempotency key from the same family', () => {
      expect(standardWebhooks.readIdempotencyKey!(ingestRequest(headers(family), payload))).toBe(ID);
    });
  });

  it('keys the HMAC with the base64 decoding of the secret, never its UTF-8 as Stripe does', () => {
    const stripeStyle = `v1,${hmac('sha256', SECRET, `${ID}.${NOW}.`, payload).toString('base64')}`;
    expect(verify(headers(FAMILIES[0], { signature: stripeStyle }))).toBe('INVALID_SIGNATURE');
  });

  it('never mixes families: a webhook-signature is checked against webhook-id only', () => {
    const h = headers(FAMILIES[0]);
    expect(verify({ 'svix-id': ID, 'webhook-timestamp': h['webhook-timestamp']!, 'webhook-signature': h['webhook-signature']! })).toBe('MISSING_SIGNATURE');
  });

  it('types by JSON type, falling back to webhook; hides both signature headers', () => {
    expect(standardWebhooks.requiresJson).toBe(false);
    expect(standardWebhooks.eventType).toEqual({ from: 'json', path: ['type'] });
    expect(standardWebhooks.eventTypeRequired).toBe(false);
    expect(standardWebhooks.signatureHeaders(ingestSource())).toEqual(['webhook-signature', 'svix-signature']);
  });
});

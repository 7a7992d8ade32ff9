import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { shopify } from '../../../src/sources/presets/shopify.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const SECRET = 'hush-app-secret';
// An 18-digit id: a JSON round trip would change it, signing the raw bytes does not.
const payload = '{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00"}';
/** As Shopify documents it: base64 of HMAC-SHA256 over the raw body, keyed with the app secret. */
const hmacOf = (body: string | Buffer, secret = SECRET) => createHmac('sha256', secret).update(body).digest('base64');

const FAMILIES = [
  { name: 'X-Shopify-*', signature: 'x-shopify-hmac-sha256', topic: 'x-shopify-topic', id: 'x-shopify-webhook-id' },
  { name: 'shopify-* (newer)', signature: 'shopify-hmac-sha256', topic: 'shopify-topic', id: 'shopify-webhook-id' },
] as const;
const verify = (h: Record<string, string>, body: string | Buffer = payload, secrets = [SECRET]) =>
  outcome(() => shopify.verify(ingestRequest(h, body), ingestSource({ preset: 'SHOPIFY', secrets }), 0));

describe('SHOPIFY preset', () => {
  describe.each(FAMILIES)('with the $name headers', (family) => {
    it.each([
      ['the right secret', hmacOf(payload), payload, [SECRET], 'OK'],
      ['a wrong secret', hmacOf(payload, 'other'), payload, [SECRET], 'INVALID_SIGNATURE'],
      ['a changed body byte', hmacOf(payload), flipLastByte(payload), [SECRET], 'INVALID_SIGNATURE'],
      ['the new secret of two (rotation)', hmacOf(payload, 'new'), payload, ['old', 'new'], 'OK'],
      ['the old secret of two (rotation)', hmacOf(payload, 'old'), payload, ['old', 'new'], 'OK'],
    ])('%s → %s', (_name, signature, body, secrets, expected) => {
      expect(verify({ [family.signature]: signature }, body, secrets)).toBe(expected);
    });

    it('refuses malformed signatures before decoding', () => {
      const good = hmacOf(payload);
      const hex = createHmac('sha256', SECRET).update(payload).digest('hex');
      for (const bad of [hex, good.slice(0, -1), good.replace('=', ''), `${good}=`, `sha256=${good}`, ` ${good}`, '']) {
        expect(verify({ [family.signature]: bad }), bad).toBe('MALFORMED_SIGNATURE');
      }
    });

    it('reads the topic and webhook id', () => {
      const r = ingestRequest({ [family.signature]: hmacOf(payload), [family.topic]: 'orders/create', [family.id]: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' }, payload);
      expect(shopify.readEventType!(r)).toBe('orders/create');
      expect(shopify.readIdempotencyKey!(r)).toBe('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    });
  });

  it('refuses a request without signature header', () => {
    expect(verify({ 'x-shopify-topic': 'orders/create' })).toBe('MISSING_SIGNATURE');
  });

  it('requires the topic: its absence is a 400 naming the header', () => {
    const missing = () => shopify.readEventType!(ingestRequest({ 'x-shopify-hmac-sha256': hmacOf(payload) }, payload));
    expect(outcome(missing)).toBe('MISSING_HEADER');
    expect(missing).toThrow(/X-Shopify-Topic/);
    expect(shopify.eventTypeRequired).toBe(true);
    expect(shopify.readIdempotencyKey!(ingestRequest({}, payload))).toBeUndefined();
  });

  it('hides both signature headers', () => {
    expect(shopify.signatureHeaders(ingestSource())).toEqual(['x-shopify-hmac-sha256', 'shopify-hmac-sha256']);
  });
});

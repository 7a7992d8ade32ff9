import { createHmac } from 'node:crypto';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { describe, expect, it } from 'vitest';
import { adyen, checkBasicAuth, isValidAdyenKey, splitAdyen } from '../../../src/sources/presets/adyen.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const validator = new HmacValidator();
// The test key of Adyen's HMAC documentation and library tests.
const KEY = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';
const OTHER_KEY = 'a'.repeat(64);

type Item = Record<string, unknown> & { additionalData: Record<string, unknown> };
function item(overrides: Record<string, unknown> = {}, key = KEY): Item {
  const unsigned: Item = {
    pspReference: '7914073381342284', merchantAccountCode: 'TestMerchant', merchantReference: 'TestPayment-1407325143704',
    amount: { value: 1130, currency: 'EUR' }, eventCode: 'AUTHORISATION', success: 'true', additionalData: {}, ...overrides,
  } as Item;
  return { ...unsigned, additionalData: { ...unsigned.additionalData, hmacSignature: validator.calculateHmac(unsigned as never, key) } };
}
const notification = (...items: Item[]) => JSON.stringify({ live: 'false', notificationItems: items.map((i) => ({ NotificationRequestItem: i })) });
const verify = (body: string | Buffer, h: Record<string, string> = {}, secrets = [KEY]) =>
  outcome(() => adyen.verify(ingestRequest(h, body), ingestSource({ preset: 'ADYEN', secrets }), 0));

describe('ADYEN preset: payments notifications', () => {
  it("matches Adyen's published signature for its example item", () => {
    expect(item().additionalData.hmacSignature).toBe('coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=');
  });

  it('accepts items signed by @adyen/api-library, which validateHMAC accepts too', () => {
    const signed = item();
    expect(validator.validateHMAC(signed as never, KEY)).toBe(true);
    expect(verify(notification(signed))).toBe('OK');
    expect(verify(notification(signed), {}, [KEY.toLowerCase()])).toBe('OK');
    expect(verify(notification(item({ originalReference: 'ORIG', eventCode: 'REFUND', success: 'false' }), signed))).toBe('OK');
  });

  it.each([
    ['a wrong key', [item({}, OTHER_KEY)], [KEY], 'INVALID_SIGNATURE'],
    ['a changed signed field', [{ ...item(), amount: { value: 1131, currency: 'EUR' } }], [KEY], 'INVALID_SIGNATURE'],
    ['several items, one bad', [item(), item({ pspReference: '2' }), { ...item({ pspReference: '3' }), eventCode: 'CAPTURE' }], [KEY], 'INVALID_SIGNATURE'],
    ['the new key of two (rotation)', [item({}, OTHER_KEY)], [KEY, OTHER_KEY], 'OK'],
    ['the old key of two (rotation)', [item()], [KEY, OTHER_KEY], 'OK'],
  ])('%s → %s', (_name, items, secrets, expected) => {
    expect(verify(notification(...items), {}, secrets)).toBe(expected);
  });

  it('covers only the eight fields, as Adyen signs them', () => {
    expect(verify(notification({ ...item(), reason: 'changed', paymentMethod: 'visa' }))).toBe('OK');
  });

  it('refuses items without, or with a malformed, hmacSignature', () => {
    const good = item();
    const without = { ...good, additionalData: {} };
    expect(verify(notification(good, without))).toBe('MISSING_SIGNATURE');
    expect(verify(notification({ ...good, additionalData: undefined } as never))).toBe('MISSING_SIGNATURE');
    const sig = good.additionalData.hmacSignature as string;
    for (const bad of [sig.slice(0, -1), Buffer.from(sig, 'base64').toString('hex'), 42]) {
      expect(verify(notification({ ...good, additionalData: { hmacSignature: bad } })), String(bad)).toBe('MALFORMED_SIGNATURE');
    }
    expect(verify(JSON.stringify({ live: 'false', notificationItems: [] }))).toBe('MALFORMED_SIGNATURE');
    expect(verify(JSON.stringify({ notificationItems: [{ NotificationRequestItem: 'x' }] }))).toBe('MALFORMED_SIGNATURE');
    expect(verify('{"live":"false"}')).toBe('MISSING_SIGNATURE');
    expect(verify('not json')).toBe('MISSING_SIGNATURE');
  });

  it('validates keys as 64 hex before decoding: a 63-hex key verifies nothing', () => {
    expect(isValidAdyenKey(KEY)).toBe(true);
    expect(isValidAdyenKey(KEY.slice(1))).toBe(false);
    expect(isValidAdyenKey(`${KEY.slice(1)}g`)).toBe(false);
    expect(isValidAdyenKey(`${KEY}0`)).toBe(false);
    // Node would decode the first 31 bytes of it and silently drop the last character.
    expect(verify(notification(item({}, KEY.slice(0, 62))), {}, [KEY.slice(0, 63)])).toBe('INVALID_SIGNATURE');
  });

  it('splits a notification into one event per item', () => {
    const first = item();
    const second = item({ pspReference: '8815', eventCode: 'CAPTURE', success: 'false' });
    const events = splitAdyen(ingestRequest({}, notification(first, second)));
    expect(events.map((e) => [e.type, e.idempotencyKey])).toEqual([
      ['AUTHORISATION', '7914073381342284:AUTHORISATION:true'],
      ['CAPTURE', '8815:CAPTURE:false'],
    ]);
    // Each item as sent, without its signature: signatures are never stored.
    const { hmacSignature, ...additionalData } = second.additionalData as Record<string, unknown>;
    expect(hmacSignature).toEqual(expect.any(String));
    expect(JSON.parse(events[1]!.body.toString())).toEqual({ ...second, additionalData });
    expect(events[0]!.body.toString()).not.toContain('hmacSignature');
  });
});

describe('ADYEN preset: platform and management webhooks', () => {
  const body = '{"data":{"balancePlatform":"YourBalancePlatform","accountHolder":{"id":"AH3227C223222C5GXQXF658WB"}},"environment":"test","type":"balancePlatform.accountHolder.created"}';
  const sign = (b: string | Buffer, key = KEY) => createHmac('sha256', Buffer.from(key, 'hex')).update(b).digest('base64');

  it('accepts HmacSignature over the raw body, as validateHMACSignature does', () => {
    expect(validator.validateHMACSignature(KEY, sign(body), body)).toBe(true);
    expect(verify(body, { hmacsignature: sign(body) })).toBe('OK');
  });

  it.each([
    ['a wrong key', sign(body, OTHER_KEY), body, [KEY], 'INVALID_SIGNATURE'],
    ['a changed body byte', sign(body), flipLastByte(body), [KEY], 'INVALID_SIGNATURE'],
    ['the new key of two (rotation)', sign(body, OTHER_KEY), body, [KEY, OTHER_KEY], 'OK'],
    ['a hex signature', createHmac('sha256', Buffer.from(KEY, 'hex')).update(body).digest('hex'), body, [KEY], 'MALFORMED_SIGNATURE'],
    ['a truncated signature', sign(body).slice(2), body, [KEY], 'MALFORMED_SIGNATURE'],
  ])('%s → %s', (_name, signature, b, secrets, expected) => {
    expect(verify(b, { hmacsignature: signature }, secrets)).toBe(expected);
  });

  it('is one event typed by type, with no default key, carrying the raw bytes', () => {
    const events = splitAdyen(ingestRequest({ hmacsignature: sign(body) }, body));
    expect(events).toEqual([{ type: 'balancePlatform.accountHolder.created', idempotencyKey: null, body: Buffer.from(body) }]);
    expect(adyen.requiresJson).toBe(true);
    expect(adyen.signatureHeaders(ingestSource())).toEqual(['hmacsignature']);
  });
});

describe('checkBasicAuth', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  it.each([
    ['the right credentials', basic('adyen:s3cret:with:colons'), true],
    ['a lowercase scheme', basic('adyen:s3cret:with:colons').replace('Basic', 'basic'), true],
    ['a wrong password', basic('adyen:s3cret'), false],
    ['a wrong user', basic('adyen2:s3cret:with:colons'), false],
    ['no colon', basic('adyen'), false],
    ['another scheme', `Bearer ${Buffer.from('adyen:s3cret:with:colons').toString('base64')}`, false],
    ['malformed base64', 'Basic ###', false],
    ['no header', undefined, false],
  ])('%s → %s', (_name, header, expected) => {
    expect(checkBasicAuth(header, 'adyen', 's3cret:with:colons')).toBe(expected);
  });
});

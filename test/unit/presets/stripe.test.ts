import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripe } from '../../../src/sources/presets/stripe.js';
import { whsecKey } from '../../../src/crypto/whsec.js';
import { hmac } from '../../../src/sources/verify.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const { webhooks } = new Stripe('sk_test_unused');
const SECRET = 'whsec_test_secret_for_hookyard';
const NOW = 1_700_000_000;
const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { amount: 2000 } } });
const signed = (opts: { secret?: string; timestamp?: number; scheme?: string; body?: string } = {}) =>
  webhooks.generateTestHeaderString({ payload: opts.body ?? payload, secret: opts.secret ?? SECRET, timestamp: opts.timestamp ?? NOW, ...(opts.scheme ? { scheme: opts.scheme } : {}) });
const verify = (header: string | undefined, body: string | Buffer = payload, secrets = [SECRET], now = NOW, toleranceSeconds: number | null = null) =>
  outcome(() => stripe.verify(ingestRequest(header === undefined ? {} : { 'stripe-signature': header }, body), ingestSource({ preset: 'STRIPE', secrets, toleranceSeconds }), now));

describe('STRIPE preset', () => {
  it('accepts what stripe-node generates, and stripe-node accepts it too', () => {
    const header = signed({ timestamp: Math.floor(Date.now() / 1000) });
    expect(verify(header, payload, [SECRET], Math.floor(Date.now() / 1000))).toBe('OK');
    expect(webhooks.constructEvent(payload, header, SECRET).id).toBe('evt_1');
  });

  it.each([
    ['a wrong secret', signed({ secret: 'whsec_other' }), payload, 'INVALID_SIGNATURE'],
    ['a changed body byte', signed(), flipLastByte(payload), 'INVALID_SIGNATURE'],
    ['a timestamp 301 s old', signed({ timestamp: NOW - 301 }), payload, 'INVALID_SIGNATURE'],
    ['a timestamp exactly 300 s old', signed({ timestamp: NOW - 300 }), payload, 'OK'],
    ['a timestamp an hour ahead (stripe-node lets it pass)', signed({ timestamp: NOW + 3600 }), payload, 'OK'],
    ['no header', undefined, payload, 'MISSING_SIGNATURE'],
  ])('%s → %s', (_name, header, body, expected) => {
    expect(verify(header, body)).toBe(expected);
  });

  it('refuses every malformed header before decoding it', () => {
    const good = signed();
    const v1 = good.split(',v1=')[1]!;
    for (const bad of [
      `v1=${v1}`, // no t
      `t=${NOW}`, // no v1
      `t=${NOW},t=${NOW},v1=${v1}`,
      `t=${NOW},v1=${v1.toUpperCase()}`,
      `t=${NOW},v1=${v1.slice(1)}`,
      `t=${NOW},v1=${v1.slice(0, -1)}g`,
      `t=${NOW}, v1=${v1}`,
      `t=abc,v1=${v1}`,
      '',
    ]) {
      expect(verify(bad), bad).toBe('MALFORMED_SIGNATURE');
    }
  });

  it('during a rotation, any v1 matching any live secret verifies; other schemes are ignored', () => {
    const byOld = signed({ secret: 'whsec_old' }).split(',v1=')[1]!;
    const byNew = signed({ secret: 'whsec_new' }).split(',v1=')[1]!;
    const byStranger = signed({ secret: 'whsec_stranger' }).split(',v1=')[1]!;
    expect(verify(`t=${NOW},v1=${byNew},v1=${byOld}`, payload, ['whsec_new'])).toBe('OK');
    expect(verify(`t=${NOW},v1=${byStranger},v1=${byOld}`, payload, ['whsec_new', 'whsec_old'])).toBe('OK');
    expect(verify(`t=${NOW},v1=${byNew}`, payload, ['whsec_old', 'whsec_new'])).toBe('OK');
    expect(verify(`t=${NOW},v1=${byStranger}`, payload, ['whsec_old', 'whsec_new'])).toBe('INVALID_SIGNATURE');
    // A correct signature under the v0 scheme is no v1 and proves nothing.
    const v0 = signed({ scheme: 'v0' });
    expect(v0).toMatch(/^t=\d+,v0=/);
    expect(verify(v0)).toBe('MALFORMED_SIGNATURE');
    expect(verify(`${signed()},v0=${'0'.repeat(64)}`)).toBe('OK');
  });

  it('keys the HMAC with the whole secret, whsec_ included, never its base64 decoding', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const decodedKey = hmac('sha256', whsecKey(secret), `${NOW}.`, payload).toString('hex');
    expect(verify(`t=${NOW},v1=${decodedKey}`, payload, [secret])).toBe('INVALID_SIGNATURE');
    expect(verify(signed({ secret }), payload, [secret])).toBe('OK');
  });

  it('takes the source tolerance', () => {
    expect(verify(signed({ timestamp: NOW - 60 }), payload, [SECRET], NOW, 30)).toBe('INVALID_SIGNATURE');
    expect(verify(signed({ timestamp: NOW - 60 }), payload, [SECRET], NOW, 600)).toBe('OK');
  });

  it('reads type and id from the JSON body and hides the signature header', () => {
    expect(stripe.requiresJson).toBe(true);
    expect(stripe.eventType).toEqual({ from: 'json', path: ['type'] });
    expect(stripe.idempotencyKey).toEqual({ from: 'json', path: ['id'] });
    expect(stripe.signatureHeaders(ingestSource())).toEqual(['stripe-signature']);
  });
});

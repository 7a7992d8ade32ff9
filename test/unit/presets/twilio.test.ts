import twilioSdk from 'twilio';
import { describe, expect, it } from 'vitest';
import { twilio } from '../../../src/sources/presets/twilio.js';
import { ingestRequest, ingestSource } from '../../helpers/fixtures.js';
import { flipLastByte, outcome } from '../../helpers/verify.js';

const { getExpectedBodyHash, getExpectedTwilioSignature, validateRequest, validateRequestWithBody } = twilioSdk;

const TOKEN = '12345';
const PUBLIC_URL = 'https://hooks.example.com/ingest/twilio-sms';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
const form = new URLSearchParams(params).toString();

const verify = (h: Record<string, string>, body: string | Buffer, query = '', opts: { secrets?: string[]; publicUrl?: string | null } = {}) =>
  outcome(() => twilio.verify(ingestRequest(h, body, query), ingestSource({ preset: 'TWILIO', secrets: opts.secrets ?? [TOKEN], publicUrl: opts.publicUrl === undefined ? PUBLIC_URL : opts.publicUrl }), 0));
const sig = (url: string, p: Record<string, string | string[]> = params, token = TOKEN) => ({ 'x-twilio-signature': getExpectedTwilioSignature(token, url, p) });

describe('TWILIO preset', () => {
  it("matches the example in Twilio's security documentation", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(getExpectedTwilioSignature(TOKEN, url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(verify({ 'x-twilio-signature': '0/KCTR6DLpKmkAf8muzZqo1nDgQ=' }, form, 'foo=1&bar=2', { publicUrl: 'https://mycompany.com/myapp.php' })).toBe('OK');
  });

  it('accepts a form post signed by the twilio package, over the public URL plus the query', () => {
    const url = `${PUBLIC_URL}?foo=1&bar=2`;
    expect(validateRequest(TOKEN, sig(url)['x-twilio-signature'], url, params)).toBe(true);
    expect(verify(sig(url), form, 'foo=1&bar=2')).toBe('OK');
    expect(verify(sig(PUBLIC_URL), form)).toBe('OK');
  });

  it.each([
    ['a wrong auth token', sig(PUBLIC_URL, params, 'other'), form, [TOKEN], 'INVALID_SIGNATURE'],
    ['a changed parameter byte', sig(PUBLIC_URL), flipLastByte(form), [TOKEN], 'INVALID_SIGNATURE'],
    ['an added parameter', sig(PUBLIC_URL), `${form}&Extra=1`, [TOKEN], 'INVALID_SIGNATURE'],
    ['the new token of two (rotation)', sig(PUBLIC_URL, params, 'new'), form, ['old', 'new'], 'OK'],
    ['the old token of two (rotation)', sig(PUBLIC_URL, params, 'old'), form, ['old', 'new'], 'OK'],
  ])('%s → %s', (_name, h, body, secrets, expected) => {
    expect(verify(h, body, '', { secrets })).toBe(expected);
  });

  it('refuses a signature over another URL or another query', () => {
    expect(verify(sig('https://hooks.example.com/ingest/other'), form)).toBe('INVALID_SIGNATURE');
    expect(verify(sig(`${PUBLIC_URL}?foo=1`), form, 'foo=2')).toBe('INVALID_SIGNATURE');
  });

  it('tries the default port with and without, as the twilio validator does', () => {
    expect(verify(sig('https://hooks.example.com:443/ingest/twilio-sms'), form)).toBe('OK');
    expect(verify(sig(PUBLIC_URL), form, '', { publicUrl: 'https://hooks.example.com:443/ingest/twilio-sms' })).toBe('OK');
    expect(verify(sig('http://hooks.example.com:80/in'), form, '', { publicUrl: 'http://hooks.example.com/in' })).toBe('OK');
    expect(verify(sig('https://hooks.example.com:8443/in'), form, '', { publicUrl: 'https://hooks.example.com:8443/in' })).toBe('OK');
    expect(verify(sig('https://hooks.example.com:8443/in'), form, '', { publicUrl: 'https://hooks.example.com/in' })).toBe('INVALID_SIGNATURE');
  });

  it('signs repeated, encoded and non-ASCII parameters as the twilio package does', () => {
    const body = 'To=%2B1&Body=Hello+w%C3%B6rld%21+%F0%9F%98%80&MediaUrl=b&MediaUrl=a&MediaUrl=b';
    const decoded = { To: '+1', Body: 'Hello wörld! 😀', MediaUrl: ['b', 'a', 'b'] };
    expect(verify(sig(PUBLIC_URL, decoded), body)).toBe('OK');
  });

  it('checks a JSON body against the signed bodySHA256, as validateRequestWithBody does', () => {
    const body = '{"AccountSid":"AC1","EventType":"com.twilio.messaging.message.delivered"}';
    const query = `bodySHA256=${getExpectedBodyHash(body)}`;
    const url = `${PUBLIC_URL}?${query}`;
    const h = sig(url, {});
    expect(validateRequestWithBody(TOKEN, h['x-twilio-signature'], url, body)).toBe(true);
    expect(verify(h, body, query)).toBe('OK');
    expect(verify(h, flipLastByte(body), query)).toBe('INVALID_SIGNATURE');
    const otherQuery = `bodySHA256=${getExpectedBodyHash(`${body} `)}`;
    expect(verify(h, `${body} `, otherQuery)).toBe('INVALID_SIGNATURE');
    expect(verify(h, body, query.toUpperCase().replace('BODYSHA256', 'bodySHA256'))).toBe('MALFORMED_SIGNATURE');
  });

  it('refuses a missing or malformed signature, and a source without publicUrl', () => {
    const good = sig(PUBLIC_URL)['x-twilio-signature'];
    expect(verify({}, form)).toBe('MISSING_SIGNATURE');
    for (const bad of [good.slice(0, -1), `${good}=`, Buffer.from(good, 'base64').toString('hex'), ` ${good}`, '']) {
      expect(verify({ 'x-twilio-signature': bad }, form), bad).toBe('MALFORMED_SIGNATURE');
    }
    expect(verify(sig(PUBLIC_URL), form, '', { publicUrl: null })).toBe('INVALID_SIGNATURE');
  });

  it('types events as twilio unless configured, keyed by I-Twilio-Idempotency-Token', () => {
    expect(twilio.eventType).toEqual({ fixed: 'twilio' });
    expect(twilio.idempotencyKey).toEqual({ from: 'header', name: 'i-twilio-idempotency-token' });
    expect(twilio.signatureHeaders(ingestSource())).toEqual(['x-twilio-signature']);
  });
});

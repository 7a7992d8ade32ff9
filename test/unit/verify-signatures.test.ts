import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../src/delivery/sign.js';
import { github } from '../../src/sources/presets/github.js';
import { genericHmac } from '../../src/sources/presets/hmac.js';
import { base64Pattern } from '../../src/sources/verify.js';
import { ingestRequest, ingestSource } from '../helpers/fixtures.js';
import { outcome } from '../helpers/verify.js';

describe('GITHUB preset', () => {
  it('accepts what @octokit/webhooks-methods signs, under any live secret', async () => {
    const body = '{"zen":"Design for failure."}';
    const bySecret = await sign('secret', body);
    const byNew = await sign('new', body);
    expect(outcome(() => github.verify(ingestRequest({ 'x-hub-signature-256': bySecret }, body), ingestSource(), 0))).toBe('OK');
    expect(outcome(() => github.verify(ingestRequest({ 'x-hub-signature-256': byNew }, body), ingestSource({ secrets: ['old', 'new'] }), 0))).toBe('OK');
  });

  it('refuses a changed byte, a wrong secret and every malformed header', async () => {
    const body = '{"a":1}';
    const good = await sign('secret', body);
    expect(outcome(() => github.verify(ingestRequest({ 'x-hub-signature-256': good }, '{"a":2}'), ingestSource(), 0))).toBe('INVALID_SIGNATURE');
    expect(outcome(() => github.verify(ingestRequest({ 'x-hub-signature-256': good }, body), ingestSource({ secrets: ['other'] }), 0))).toBe('INVALID_SIGNATURE');
    for (const bad of [good.toUpperCase(), good.slice(0, -1), `${good}0`, good.replace('sha256=', 'sha1='), good.replace(/.$/, 'g'), ` ${good}`]) {
      expect(outcome(() => github.verify(ingestRequest({ 'x-hub-signature-256': bad }, body), ingestSource(), 0))).toBe('MALFORMED_SIGNATURE');
    }
    expect(outcome(() => github.verify(ingestRequest({}, body), ingestSource(), 0))).toBe('MISSING_SIGNATURE');
  });
});

describe('HMAC preset', () => {
  it('defaults to X-Signature with sha256 hex', () => {
    const body = 'raw bytes';
    const hex = createHmac('sha256', 'secret').update(body).digest('hex');
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-signature': hex }, body), ingestSource({ preset: 'HMAC' }), 0))).toBe('OK');
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-signature': hex.toUpperCase() }, body), ingestSource({ preset: 'HMAC' }), 0))).toBe('OK');
  });

  it('takes a header, algorithm, base64 encoding and prefix', () => {
    const body = '{"x":1}';
    const digest = createHmac('sha512', 'secret').update(body).digest('base64');
    const s = ingestSource({ preset: 'HMAC', signatureHeader: 'X-Sig', signatureAlgorithm: 'sha512', signatureEncoding: 'base64', signaturePrefix: 'sha512=' });
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-sig': `sha512=${digest}` }, body), s, 0))).toBe('OK');
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-sig': digest }, body), s, 0))).toBe('MALFORMED_SIGNATURE');
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-sig': `sha512=${digest.slice(1)}` }, body), s, 0))).toBe('MALFORMED_SIGNATURE');
  });

  it('with a timestamp header, signs "<t>.<body>" and enforces the tolerance both ways', () => {
    const body = 'b';
    const s = ingestSource({ preset: 'HMAC', timestampHeader: 'X-Timestamp', toleranceSeconds: 300 });
    const at = (t: number) => ({ 'x-timestamp': String(t), 'x-signature': createHmac('sha256', 'secret').update(`${t}.${body}`).digest('hex') });
    expect(outcome(() => genericHmac.verify(ingestRequest(at(1000), body), s, 1000))).toBe('OK');
    expect(outcome(() => genericHmac.verify(ingestRequest(at(1000), body), s, 1300))).toBe('OK');
    expect(outcome(() => genericHmac.verify(ingestRequest(at(1000), body), s, 1301))).toBe('INVALID_SIGNATURE');
    expect(outcome(() => genericHmac.verify(ingestRequest(at(1000), body), s, 699))).toBe('INVALID_SIGNATURE');
    expect(outcome(() => genericHmac.verify(ingestRequest({ 'x-signature': at(1000)['x-signature'] }, body), s, 1000))).toBe('MISSING_SIGNATURE');
  });
});

describe('outbound Standard Webhooks signatures', () => {
  it('verify with the official standardwebhooks package, one signature per live secret', () => {
    const secrets = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ='];
    const body = Buffer.from('{"type":"x"}');
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signStandardWebhook(secrets, 'msg_1', timestamp, body);
    expect(signature.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    for (const secret of secrets) expect(() => new Webhook(secret).verify(body.toString(), headers)).not.toThrow();
  });

  it('match the published Standard Webhooks test vector', () => {
    // From the standard-webhooks specification's reference tests.
    const signature = signStandardWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, Buffer.from('{"test": 2432232314}'));
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('base64Pattern', () => {
  it('accepts exactly the padded length of a digest', () => {
    expect(base64Pattern(32).test(Buffer.alloc(32).toString('base64'))).toBe(true);
    expect(base64Pattern(32).test(Buffer.alloc(33).toString('base64'))).toBe(false);
    expect(base64Pattern(20).test(Buffer.alloc(20).toString('base64'))).toBe(true);
    expect(base64Pattern(64).test(Buffer.alloc(64).toString('base64'))).toBe(true);
  });
});

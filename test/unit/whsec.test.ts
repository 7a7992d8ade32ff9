import { describe, expect, it } from 'vitest';
import { encodeWhsec, parseWhsec, whsecKey } from '../../src/crypto/whsec.js';

// The Standard Webhooks specification's example secret.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_KEY = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');

describe('whsec secrets', () => {
  it('the key is the base64 after the prefix; without the prefix the whole secret is decoded', () => {
    expect(whsecKey(SPEC_SECRET)).toEqual(SPEC_KEY);
    expect(whsecKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(SPEC_KEY);
  });

  it.each<[string, string | null]>([
    [SPEC_SECRET, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['whsec_AAEC', 'AAEC'],
    ['whsec_AA==', 'AA=='],
    ['whsec_', null],
    ['whsec_not base64', null],
    ['whsec_AA===', null],
    ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', null],
    ['WHSEC_AAEC', null],
  ])('parseWhsec(%j) keeps the base64 %j', (secret, base64) => {
    const parsed = parseWhsec(secret);
    expect(parsed?.base64 ?? null).toBe(base64);
    if (parsed) expect(parsed.key).toEqual(Buffer.from(base64!, 'base64'));
  });

  it('encodes a key so that it parses back to the same key', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    const secret = encodeWhsec(key);
    expect(secret.startsWith('whsec_')).toBe(true);
    expect(parseWhsec(secret)?.key).toEqual(key);
    expect(whsecKey(secret)).toEqual(key);
  });
});

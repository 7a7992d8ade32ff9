import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { seal, sealedKeyId, unseal, UnsealError } from '../../src/crypto/seal.js';
import { generateApiToken, generateSigningSecret, hashToken, secretHint } from '../../src/crypto/tokens.js';

const keyA = parseKey(randomBytes(32).toString('base64'));
const keyB = parseKey(randomBytes(32).toString('hex'));

describe('sealing secrets at rest', () => {
  it('round-trips and names the key it was sealed under', () => {
    const ring = createKeyring(keyA);
    const sealed = seal(ring, 'whsec_abc');
    expect(sealed).not.toContain('whsec_abc');
    expect(sealedKeyId(sealed)).toBe(keyA.id);
    expect(keyA.id).toMatch(/^[0-9a-f]{8}$/);
    expect(unseal(ring, sealed)).toBe('whsec_abc');
    expect(seal(ring, 'same')).not.toBe(seal(ring, 'same'));
  });

  it('opens values sealed under an older key while sealing new ones under the current key', () => {
    const old = seal(createKeyring(keyA), 'old secret');
    const rotated = createKeyring(keyB, [keyA]);
    expect(unseal(rotated, old)).toBe('old secret');
    expect(sealedKeyId(seal(rotated, 'new'))).toBe(keyB.id);
  });

  it('refuses values under a key it does not hold, and tampered values', () => {
    const sealed = seal(createKeyring(keyA), 'x');
    expect(() => unseal(createKeyring(keyB), sealed)).toThrow(UnsealError);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => unseal(createKeyring(keyA), parts.join(':'))).toThrow(/failed authentication/);
  });

  it('parses keys strictly', () => {
    expect(() => parseKey('too short')).toThrow(/32 bytes/);
    expect(() => parseKey(randomBytes(31).toString('base64'))).toThrow();
    expect(() => parseKey('zz'.repeat(32))).toThrow();
  });
});

describe('tokens and relay secrets', () => {
  it('makes hky_ tokens of 32 random bytes and stores only a SHA-256', () => {
    const token = generateApiToken();
    expect(token).toMatch(/^hky_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('makes whsec_ secrets of padded standard base64 and short hints', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretHint(secret)).toBe(`whsec_…${secret.slice(-4)}`);
  });
});

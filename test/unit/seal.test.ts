import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { createCipheriv } from 'node:crypto';
import { seal, sealedKeyId, unseal, UnsealError, type SealContext } from '../../src/crypto/seal.js';
import { generateApiToken, generateSigningSecret, hashToken, secretHint } from '../../src/crypto/tokens.js';

const keyA = parseKey(randomBytes(32).toString('base64'));
const keyB = parseKey(randomBytes(32).toString('hex'));
const here: SealContext = { table: 'relay', column: 'signing_secret_sealed', id: '11111111-1111-4111-8111-111111111111' };

/** A value as sealed before values were bound to their place: `v1`, no associated data. */
function sealV1(key: typeof keyA, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', key.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join(':');
}

describe('sealing secrets at rest', () => {
  it('round-trips and names the key it was sealed under', () => {
    const ring = createKeyring(keyA);
    const sealed = seal(ring, 'whsec_abc', here);
    expect(sealed).not.toContain('whsec_abc');
    expect(sealedKeyId(sealed)).toBe(keyA.id);
    expect(keyA.id).toMatch(/^[0-9a-f]{8}$/);
    expect(unseal(ring, sealed, here)).toBe('whsec_abc');
    expect(seal(ring, 'same', here)).not.toBe(seal(ring, 'same', here));
  });

  it('opens values sealed under an older key while sealing new ones under the current key', () => {
    const old = seal(createKeyring(keyA), 'old secret', here);
    const rotated = createKeyring(keyB, [keyA]);
    expect(unseal(rotated, old, here)).toBe('old secret');
    expect(sealedKeyId(seal(rotated, 'new', here))).toBe(keyB.id);
  });

  it('refuses values under a key it does not hold, and tampered values', () => {
    const sealed = seal(createKeyring(keyA), 'x', here);
    expect(() => unseal(createKeyring(keyB), sealed, here)).toThrow(UnsealError);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => unseal(createKeyring(keyA), parts.join(':'), here)).toThrow(/failed authentication/);
  });

  it('binds a value to its table, column and row: moved anywhere else it does not open', () => {
    const ring = createKeyring(keyA);
    const sealed = seal(ring, 'whsec_abc', here);
    expect(sealed.startsWith(`v2:${keyA.id}:`)).toBe(true);
    const elsewhere: SealContext[] = [
      { ...here, id: '22222222-2222-4222-8222-222222222222' },
      { ...here, column: 'previous_signing_secret_sealed' },
      { ...here, table: 'source' },
    ];
    for (const where of elsewhere) {
      expect(() => unseal(ring, sealed, where)).toThrow(UnsealError);
      expect(() => unseal(ring, sealed, where)).toThrow(/copied from another row or column/);
    }
  });

  it('still opens values sealed before the binding (v1), wherever they are', () => {
    const ring = createKeyring(keyA);
    expect(unseal(ring, sealV1(keyA, 'legacy'), here)).toBe('legacy');
    expect(unseal(ring, sealV1(keyA, 'legacy'), { ...here, id: 'anything' })).toBe('legacy');
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

import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { seal, UnsealError, type SealContext } from '../../src/crypto/seal.js';
import { OpenedSecrets } from '../../src/delivery/opened-secrets.js';
import { signStandardWebhook } from '../../src/delivery/sign.js';

const ring = createKeyring(parseKey(randomBytes(32).toString('base64')));
const relayA: SealContext = { table: 'relay', column: 'signing_secret_sealed', id: '11111111-1111-4111-8111-111111111111' };
const relayB: SealContext = { ...relayA, id: '22222222-2222-4222-8222-222222222222' };
const secret = `whsec_${randomBytes(24).toString('base64')}`;

describe('opened relay secrets', () => {
  it('opens a value once and signs with the same key as the secret itself', () => {
    const opened = new OpenedSecrets(ring);
    const sealed = seal(ring, secret, relayA);
    const key = opened.hmacKey(sealed, relayA);
    expect(opened.hmacKey(sealed, relayA)).toBe(key);
    const body = Buffer.from('{"a":1}');
    expect(signStandardWebhook([key], 'msg_1', 1700000000, body)).toBe(signStandardWebhook([secret], 'msg_1', 1700000000, body));
    expect(signStandardWebhook([key], 'msg_1', 1700000000, body)).toBe(
      `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update('msg_1.1700000000.').update(body).digest('base64')}`,
    );
    expect(opened.text(sealed, relayA)).toBe(secret);
  });

  it('still refuses a value copied into another row after it was opened in its own', () => {
    const opened = new OpenedSecrets(ring);
    const sealed = seal(ring, secret, relayA);
    opened.hmacKey(sealed, relayA);
    expect(() => opened.hmacKey(sealed, relayB)).toThrow(UnsealError);
    expect(() => opened.text(sealed, { ...relayA, column: 'headers_sealed' })).toThrow(UnsealError);
  });

  it('opens a rotated value afresh', () => {
    const opened = new OpenedSecrets(ring);
    const first = opened.text(seal(ring, 'one', relayA), relayA);
    expect(opened.text(seal(ring, 'two', relayA), relayA)).not.toBe(first);
  });
});

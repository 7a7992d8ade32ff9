import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * Secrets at rest are AES-256-GCM sealed strings: `v1:<key id>:<iv>:<tag>:<ciphertext>`
 * (base64url parts). The key id travels with every value so a rotation can tell which
 * values still need re-sealing and which key opens them.
 */
const PREFIX = 'v1';

export class UnsealError extends Error {
  constructor(readonly keyId: string | undefined, message: string) {
    super(message);
    this.name = 'UnsealError';
  }
}

export function seal(keyring: Keyring, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.bytes, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [PREFIX, keyring.current.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
}

export function unseal(keyring: Keyring, sealed: string): string {
  const parts = sealed.split(':');
  if (parts.length !== 5 || parts[0] !== PREFIX) throw new UnsealError(undefined, 'not a sealed value');
  const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
  const key = keyring.byId.get(keyId);
  if (!key) throw new UnsealError(keyId, `sealed under key ${keyId}, which this process does not hold`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new UnsealError(keyId, `sealed value under key ${keyId} failed authentication`);
  }
}

/** The key id a sealed value names, without opening it. */
export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split(':')[1];
}

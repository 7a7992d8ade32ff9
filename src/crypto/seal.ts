import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * Secrets at rest are AES-256-GCM sealed strings: `v2:<key id>:<iv>:<tag>:<ciphertext>`
 * (base64url parts). The key id travels with every value so a rotation can tell which
 * values still need re-sealing and which key opens them.
 *
 * Every value is bound to where it lives (table, column, row id) as GCM associated data: a
 * sealed value copied into another row or column (say, one relay's signing secret pasted over
 * another's, by whoever can write the table but not read the key) fails authentication instead
 * of being used there. `v1` values, sealed before that binding, still open without it until
 * `npm run reencrypt` rewrites them as `v2`.
 */
const BOUND = 'v2';
const UNBOUND = 'v1';

/** Where a sealed value is stored; part of what it is sealed with. */
export interface SealContext {
  table: 'source' | 'relay';
  column: string;
  id: string;
}

export class UnsealError extends Error {
  constructor(readonly keyId: string | undefined, message: string) {
    super(message);
    this.name = 'UnsealError';
  }
}

function associatedData(context: SealContext): Buffer {
  return Buffer.from(`hookyard:${context.table}.${context.column}:${context.id}`, 'utf8');
}

export function seal(keyring: Keyring, plaintext: string, context: SealContext): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.bytes, iv);
  cipher.setAAD(associatedData(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [BOUND, keyring.current.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
}

export function unseal(keyring: Keyring, sealed: string, context: SealContext): string {
  const parts = sealed.split(':');
  if (parts.length !== 5 || (parts[0] !== BOUND && parts[0] !== UNBOUND)) throw new UnsealError(undefined, 'not a sealed value');
  const [version, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
  const key = keyring.byId.get(keyId);
  if (!key) throw new UnsealError(keyId, `sealed under key ${keyId}, which this process does not hold`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    if (version === BOUND) decipher.setAAD(associatedData(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new UnsealError(
      keyId,
      version === BOUND
        ? `the sealed ${context.column} of ${context.table} ${context.id} failed authentication: it was altered, or copied from another row or column`
        : `sealed value under key ${keyId} failed authentication`,
    );
  }
}

/** The key id a sealed value names, without opening it. */
export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split(':')[1];
}

/** Whether a value is sealed under `keyId` and bound to its place (nothing for reencrypt to do). */
export function isCurrentSeal(sealed: string, keyId: string): boolean {
  return sealed.startsWith(`${BOUND}:${keyId}:`);
}

/** The SQL `like` pattern of values that are current under `keyId` (see isCurrentSeal). */
export function currentSealPattern(keyId: string): string {
  return `${BOUND}:${keyId}:%`;
}

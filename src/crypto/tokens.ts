import { createHash, randomBytes } from 'node:crypto';
import { encodeWhsec, WHSEC_PREFIX } from './whsec.js';

/** API tokens: `hky_` + 32 random bytes in base64url; only their SHA-256 is stored. */
export function generateApiToken(): string {
  return `hky_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Relay signing secrets: `whsec_` + padded standard base64 of 32 random bytes. */
export function generateSigningSecret(byteLength = 32): string {
  return encodeWhsec(randomBytes(byteLength));
}

/** `whsec_…a1b2`: enough to tell two secrets apart, never enough to use one. */
export function secretHint(secret: string): string {
  const prefix = secret.startsWith(WHSEC_PREFIX) ? WHSEC_PREFIX : '';
  return `${prefix}…${secret.slice(-4)}`;
}

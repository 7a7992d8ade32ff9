/**
 * `whsec_` secrets, as Standard Webhooks (and Svix) spell them: the prefix, then the base64
 * of the HMAC key. Relays sign with them, STANDARD_WEBHOOKS sources verify with them.
 */
export const WHSEC_PREFIX = 'whsec_';

/** Well formed: the prefix, then standard base64 (padding as written, checked by the caller if it cares). */
const FORMAT = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/**
 * The HMAC key: the base64-decoded part after the prefix (not the secret's UTF-8, as Stripe
 * uses it); a secret without the prefix is decoded whole, as the reference libraries do.
 */
export function whsecKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(WHSEC_PREFIX) ? secret.slice(WHSEC_PREFIX.length) : secret, 'base64');
}

/** A well-formed secret's key and its base64 as written; `null` for anything else. */
export function parseWhsec(secret: string): { base64: string; key: Buffer } | null {
  const match = FORMAT.exec(secret);
  return match ? { base64: match[1]!, key: Buffer.from(match[1]!, 'base64') } : null;
}

/** The secret of a key, in padded standard base64. */
export function encodeWhsec(key: Buffer): string {
  return `${WHSEC_PREFIX}${key.toString('base64')}`;
}

import { createHash, createHmac } from 'node:crypto';
import { safeEqual } from '../crypto/safe-equal.js';
import { AppError } from '../errors.js';

// The presets compare signatures through this module; auth compares token hashes with it too.
export { safeEqual };

export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512';

/** Digest lengths in bytes, so a header's format can be checked before any decoding. */
export const DIGEST_BYTES: Record<HmacAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** A regex for exactly `bytes` bytes of lowercase hex (Node's decoder silently accepts junk). */
export function hexPattern(bytes: number, caseInsensitive = false): RegExp {
  return new RegExp(`^[0-9a-f]{${bytes * 2}}$`, caseInsensitive ? 'i' : '');
}

/** A regex for exactly `bytes` bytes of padded standard base64. */
export function base64Pattern(bytes: number): RegExp {
  const chars = Math.ceil(bytes / 3) * 4;
  const padding = (3 - (bytes % 3)) % 3;
  return new RegExp(`^[A-Za-z0-9+/]{${chars - padding}}={${padding}}$`);
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Integer seconds since the epoch, as every timestamped scheme sends them. */
const UNIX_SECONDS = /^\d{1,12}$/;

/** A source's `toleranceSeconds` when unset: the five minutes every provider's SDK uses. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Refuses a timestamp older than the tolerance (the source's, else the default) and, with
 * `window: 'both'`, as far ahead. Stripe and Slack accept any future time (their SDKs do);
 * Standard Webhooks and a generic HMAC source do not.
 */
export function checkTimestamp(label: string, timestamp: string, nowSeconds: number, toleranceSeconds: number | null, window: 'past' | 'both'): void {
  if (!UNIX_SECONDS.test(timestamp)) throw new AppError('MALFORMED_SIGNATURE', `${label} must be integer seconds since the epoch`);
  const tolerance = toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const age = nowSeconds - Number(timestamp);
  if (age > tolerance || (window === 'both' && -age > tolerance)) {
    throw new AppError('INVALID_SIGNATURE', `${label} is outside the ${tolerance} s tolerance`);
  }
}

/** Padded standard base64 of any length, checked before decoding Basic credentials. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * HTTP Basic (RFC 7617): true when `Authorization: Basic <base64 user:password>` names
 * exactly these credentials. Both halves are compared as SHA-256 digests, so the compared
 * buffers have equal length and neither the length nor the content of the expected
 * values leaks through timing; both are always compared, with no early exit.
 */
export function checkBasicAuth(authorization: string | undefined, username: string, password: string): boolean {
  const match = authorization === undefined ? null : /^Basic +(\S+)$/i.exec(authorization.trim());
  if (!match || !BASE64.test(match[1]!)) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userMatches = safeEqual(sha256(decoded.slice(0, colon)), sha256(username));
  const passwordMatches = safeEqual(sha256(decoded.slice(colon + 1)), sha256(password));
  return userMatches && passwordMatches;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512';

/** Digest lengths in bytes, so a header's format can be checked before any decoding. */
export const DIGEST_BYTES: Record<HmacAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time comparison; unequal lengths are simply unequal. */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
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

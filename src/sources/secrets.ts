import type { SourceSecret } from '../db/entities/source.js';

/** Every live secret is tried on every request, so a rotation may not pile them up. */
export const MAX_LIVE_SECRETS = 10;

/** A secret verifies until its expiry, exclusive; one without an expiry always does. */
export function isLive(secret: Pick<SourceSecret, 'expiresAt'>, now: Date): boolean {
  return secret.expiresAt === null || new Date(secret.expiresAt) > now;
}

export function liveSecrets<T extends Pick<SourceSecret, 'expiresAt'>>(secrets: readonly T[], now: Date): T[] {
  return secrets.filter((secret) => isLive(secret, now));
}

/** A just-sealed secret, live until a later rotation gives it an expiry. */
export function newSecret(sealed: string, now: Date): SourceSecret {
  return { sealed, createdAt: now.toISOString(), expiresAt: null };
}

/**
 * A gentle rotation: `added` joins the live secrets, which keep verifying for
 * `expireOldAfterSeconds` more (an earlier expiry stays as it is); expired ones are dropped.
 * `'too-many'` when the source already holds MAX_LIVE_SECRETS live ones.
 */
export function rotateSecrets(secrets: readonly SourceSecret[], added: SourceSecret, now: Date, expireOldAfterSeconds: number): SourceSecret[] | 'too-many' {
  const live = liveSecrets(secrets, now);
  if (live.length >= MAX_LIVE_SECRETS) return 'too-many';
  const expiry = new Date(now.getTime() + expireOldAfterSeconds * 1000);
  return [
    ...live.map((s) => ({ ...s, expiresAt: s.expiresAt !== null && new Date(s.expiresAt) < expiry ? s.expiresAt : expiry.toISOString() })),
    added,
  ];
}

import type { Pool } from 'pg';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Logger } from '../log.js';
import { authenticate, usableTokenIds } from './authenticate.js';
import { LastUsedWriter } from './last-used.js';
import type { Principal } from './principal.js';
import { addressKey } from './remote-address.js';

export interface AuthenticatorOptions {
  adminToken: string | undefined;
  /** Failed authentications one address may make per window before it is refused. */
  failuresPerAddress: number;
  failureWindowSeconds: number;
}

/** What an attempt came to; a refused one says whether the token was wrong or the address throttled. */
export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; code: 'UNAUTHENTICATED' }
  | { ok: false; code: 'RATE_LIMITED'; retryAfterSeconds: number };

/**
 * The one door for API tokens, over HTTP and websockets alike: throttles failed attempts per
 * address (an address past its failures is refused before any database look-up), and records
 * each token's last use.
 */
export class Authenticator {
  private readonly failures: RateLimiterMemory;
  private readonly lastUsed: LastUsedWriter;

  constructor(
    private readonly pool: Pool,
    private readonly options: AuthenticatorOptions,
    log: Logger,
  ) {
    this.failures = new RateLimiterMemory({ points: options.failuresPerAddress, duration: options.failureWindowSeconds });
    this.lastUsed = new LastUsedWriter(pool, log);
  }

  /** `token` is the bare token (no `Bearer`); `remoteAddress` the socket's peer. */
  async authenticate(token: string | undefined, remoteAddress: string | undefined): Promise<AuthOutcome> {
    const key = addressKey(remoteAddress);
    const seen = await this.failures.get(key);
    if (seen && seen.consumedPoints >= this.options.failuresPerAddress) {
      return { ok: false, code: 'RATE_LIMITED', retryAfterSeconds: Math.max(1, Math.ceil(seen.msBeforeNext / 1000)) };
    }
    const principal = await authenticate(this.pool, this.options.adminToken, token);
    if (!principal) {
      // Only a presented token counts: a request without one costs no look-up and guesses nothing.
      if (token) await this.failures.penalty(key);
      return { ok: false, code: 'UNAUTHENTICATED' };
    }
    if (principal.tokenId) this.lastUsed.touch(principal.tokenId);
    return { ok: true, principal };
  }

  /** Of the given token ids, those still usable (neither revoked nor expired). */
  usable(tokenIds: readonly string[]): Promise<Set<string>> {
    return usableTokenIds(this.pool, tokenIds);
  }
}

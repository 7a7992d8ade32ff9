import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import type { Principal } from '../auth/principal.js';

/** The key of the configured admin token (HOOKYARD_ADMIN_TOKEN), which has no id. */
const ADMIN_TOKEN_KEY = 'admin-token';

/**
 * GraphQL HTTP requests per API token (HOOKYARD_API_RATE_LIMIT_PER_SECOND, plus a burst refilled
 * over 10 s), counted in this process with rate-limiter-flexible: one token cannot take the
 * API's share of the pool from every other client. Keys are authenticated tokens only, so the
 * counters stay as few as the tokens.
 */
export class ApiRateLimit {
  private readonly limiter?: RateLimiterMemory | BurstyRateLimiter;

  constructor(private readonly perSecond: number, burst: number) {
    if (perSecond === 0) return;
    const rate = new RateLimiterMemory({ keyPrefix: 'api', points: perSecond, duration: 1 });
    this.limiter = burst > 0 ? new BurstyRateLimiter(rate, new RateLimiterMemory({ keyPrefix: 'api-burst', points: burst, duration: 10 })) : rate;
  }

  /** Counts one request; a RATE_LIMITED error (with `retryAfter` seconds) past the rate. */
  async take(principal: Principal): Promise<AppError | undefined> {
    if (!this.limiter) return undefined;
    try {
      await this.limiter.consume(principal.tokenId ?? ADMIN_TOKEN_KEY);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      return new AppError('RATE_LIMITED', `more than ${this.perSecond} requests per second for this token: retry after ${retryAfter} s`, { retryAfter });
    }
  }
}

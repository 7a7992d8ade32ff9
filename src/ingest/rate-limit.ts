import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';

/**
 * Per-source request rates (`rateLimitPerSecond`, unset = unlimited), counted in this process
 * with rate-limiter-flexible: N API replicas admit up to N times the rate between them, which
 * is the price of keeping the ingest path free of a shared counter.
 */
export class RateLimits {
  private readonly limiters = new Map<number, RateLimiterMemory>();

  /** Counts one request; throws RATE_LIMITED (429, with the seconds to wait) past the rate. */
  async take(source: { id: string; rateLimitPerSecond: number | null }): Promise<void> {
    const points = source.rateLimitPerSecond;
    if (!points) return;
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points, duration: 1 });
      this.limiters.set(points, limiter);
    }
    try {
      await limiter.consume(source.id);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('RATE_LIMITED', `more than ${points} requests per second for this source`, { retryAfter });
    }
  }
}

import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { addressKey } from '../auth/remote-address.js';
import { AppError } from '../errors.js';

function limited(rejection: RateLimiterRes, message: string): AppError {
  return new AppError('RATE_LIMITED', message, { retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) });
}

/**
 * Ingest rates, counted in this process with rate-limiter-flexible (N API replicas admit up to
 * N times a rate between them: the price of keeping the ingest path free of a shared counter).
 *
 * Two separate counts, so nobody can lock a provider out: a source's `rateLimitPerSecond`
 * counts verified requests only, and refusals are counted per (source, address prefix), so an
 * address that keeps failing is slowed down without touching what other addresses send.
 */
export class RateLimits {
  private readonly perSource = new Map<number, RateLimiterMemory>();
  private readonly failures: RateLimiterMemory;

  constructor(private readonly failuresPerMinute: number) {
    this.failures = new RateLimiterMemory({ points: failuresPerMinute, duration: 60 });
  }

  /** Refuses (429) an address that failed too often at this source, or at unknown slugs (`sourceKey` null). */
  async checkFailures(sourceKey: string | null, remoteAddress: string | null): Promise<void> {
    const seen = await this.failures.get(this.failureKey(sourceKey, remoteAddress));
    if (seen && seen.consumedPoints >= this.failuresPerMinute) throw limited(seen, 'too many refused requests from this address; retry later');
  }

  /** Counts one refusal against the address; never throws. */
  recordFailure(sourceKey: string | null, remoteAddress: string | null): void {
    this.failures.penalty(this.failureKey(sourceKey, remoteAddress), 1).catch(() => {});
  }

  /** Counts one verified request; throws RATE_LIMITED (429, with the seconds to wait) past the source's rate. */
  async takeVerified(source: { id: string; rateLimitPerSecond: number | null }): Promise<void> {
    const points = source.rateLimitPerSecond;
    if (!points) return;
    let limiter = this.perSource.get(points);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points, duration: 1 });
      this.perSource.set(points, limiter);
    }
    try {
      await limiter.consume(source.id);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw limited(rejection, `more than ${points} requests per second for this source`);
    }
  }

  private failureKey(sourceKey: string | null, remoteAddress: string | null): string {
    return `${sourceKey ?? '?'}|${addressKey(remoteAddress ?? undefined)}`;
  }
}

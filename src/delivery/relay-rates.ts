import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Per-relay request rates (`rateLimitPerSecond`), counted in this process: a delivery over
 * the rate waits for its turn (holding only a slot of its own relay). N workers send up to N
 * times the rate between them; set the limit per worker accordingly.
 */
export class RelayRates {
  private readonly limiters = new Map<number, RateLimiterMemory>();

  async wait(relayId: string, perSecond: number | null, signal: AbortSignal): Promise<void> {
    if (!perSecond) return;
    let limiter = this.limiters.get(perSecond);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
      this.limiters.set(perSecond, limiter);
    }
    for (;;) {
      signal.throwIfAborted();
      try {
        await limiter.consume(relayId);
        return;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        await new Promise((resolve) => setTimeout(resolve, Math.max(5, rejection.msBeforeNext)));
      }
    }
  }
}

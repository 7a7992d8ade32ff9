import { LRUCache } from 'lru-cache';

/** Relays whose recent sends are remembered; one forgotten early only loses its history. */
const MAX_RELAYS = 10_000;

/**
 * Per-relay request rates (`rateLimitPerSecond`), counted in this process: a delivery over
 * the rate waits for its turn (holding only a slot of its own relay). The send times of the
 * last `perSecond` requests are kept, and a new one waits until the oldest is a second old, so
 * any one-second span holds at most `perSecond` (DESIGN.md). Our own because
 * rate-limiter-flexible's memory limiter counts fixed windows, which let two full bursts meet
 * at a window's edge. N workers send up to N times the rate between them; set the limit per
 * worker accordingly.
 */
export class RelayRates {
  private readonly sent = new LRUCache<string, number[]>({ max: MAX_RELAYS });

  /** Resolves when this request may be sent, with the time it was admitted at (what the limit counts). */
  async wait(relayId: string, perSecond: number | null, signal: AbortSignal): Promise<number> {
    if (!perSecond) return Date.now();
    for (;;) {
      signal.throwIfAborted();
      const now = Date.now();
      const recent = (this.sent.get(relayId) ?? []).filter((at) => now - at < 1000);
      if (recent.length < perSecond) {
        recent.push(now);
        this.sent.set(relayId, recent);
        return now;
      }
      this.sent.set(relayId, recent);
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, recent[recent.length - perSecond]! + 1000 - now)));
    }
  }
}

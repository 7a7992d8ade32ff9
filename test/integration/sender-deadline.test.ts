import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { useSenderAndSink } from '../helpers/sender.js';
import { waitUntil } from '../helpers/sink.js';

/**
 * An attempt's deadline lives as long as the attempt, not as long as its timeout: a timer (and
 * the signal it holds) left pending after the answer stays in the heap for the rest of
 * `timeoutMs`, so a worker at 1,000 deliveries/s with 15 s timeouts carried 15,000 of them
 * (issue 13, memory: heap × 1.65 over a 50,000 drain). The deadline still cuts a slow receiver,
 * and a shutdown still aborts a request in flight.
 */
const TIMEOUT_MS = 12_345;
const ctx = useSenderAndSink();

/** Timers of exactly TIMEOUT_MS created while the hook is on and not yet fired or cleared. */
function pendingDeadlines(): { live: Set<number>; stop(): void } {
  const live = new Set<number>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === TIMEOUT_MS) live.add(asyncId);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return { live, stop: () => hook.disable() };
}

describe('an attempt deadline', () => {
  it('is cleared when the answer has been read', async () => {
    const deadlines = pendingDeadlines();
    try {
      const outcomes = await Promise.all([1, 2, 3].map(() => ctx.sender.send({ url: ctx.sink.url, method: 'POST', headers: {}, body: Buffer.from('{}'), timeoutMs: TIMEOUT_MS })));
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
      await waitUntil(() => (deadlines.live.size === 0 ? true : undefined), 2_000, `no pending deadline (${deadlines.live.size} left)`);
    } finally {
      deadlines.stop();
    }
  });

  it('still cuts a receiver that does not answer in time: TIMEOUT', async () => {
    ctx.sink.answer = () => ({ status: 200, delayMs: 2_000 });
    try {
      const outcome = await ctx.sender.send({ url: ctx.sink.url, method: 'POST', headers: {}, body: Buffer.from('{}'), timeoutMs: 200 });
      expect(outcome).toMatchObject({ ok: false, errorClass: 'TIMEOUT', message: 'no answer within 200 ms' });
    } finally {
      ctx.sink.answer = () => ({ status: 200, body: 'ok' });
    }
  });

  it('a shutdown signal still aborts a request in flight: TIMEOUT, well before the deadline', async () => {
    ctx.sink.answer = () => ({ status: 200, delayMs: 2_000 });
    const shutdown = new AbortController();
    try {
      const started = Date.now();
      const sending = ctx.sender.send({ url: ctx.sink.url, method: 'POST', headers: {}, body: Buffer.from('{}'), timeoutMs: TIMEOUT_MS, signal: shutdown.signal });
      await ctx.sink.waitFor(ctx.sink.received.length + 1);
      shutdown.abort();
      expect(await sending).toMatchObject({ ok: false, errorClass: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    } finally {
      ctx.sink.answer = () => ({ status: 200, body: 'ok' });
    }
  });
});

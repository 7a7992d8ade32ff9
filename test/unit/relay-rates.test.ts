import { describe, expect, it } from 'vitest';
import { RelayRates } from '../../src/delivery/relay-rates.js';

describe('RelayRates', () => {
  it('never lets more than the rate through in any one-second span, across window edges', async () => {
    const rates = new RelayRates();
    const signal = new AbortController().signal;
    const sent: number[] = [];
    // The admission times the limiter counts (a clock read after the await may lag them).
    const send = async () => {
      sent.push(await rates.wait('relay', 5, signal));
    };
    // One request, then nine late in its second: a fixed-window limiter lets four through at
    // the end of the first window and five at the start of the next, nine within 100 ms.
    await send();
    await new Promise((resolve) => setTimeout(resolve, 900));
    await Promise.all(Array.from({ length: 9 }, send));
    sent.sort((a, b) => a - b);
    for (const start of sent) expect(sent.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(5);
    expect(sent).toHaveLength(10);
    expect(sent.at(-1)! - sent[0]!).toBeGreaterThanOrEqual(1000);
  });

  it('keeps relays apart, and lets an unlimited relay through at once', async () => {
    const rates = new RelayRates();
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) await rates.wait('a', 3, signal);
    const order: string[] = [];
    // a's fourth must wait for a's first to be a second old; b and the unlimited c need not.
    const fourth = rates.wait('a', 3, signal).then(() => order.push('a'));
    for (let i = 0; i < 3; i++) await rates.wait('b', 3, signal);
    order.push('b');
    for (let i = 0; i < 100; i++) await rates.wait('c', null, signal);
    order.push('c');
    await fourth;
    expect(order).toEqual(['b', 'c', 'a']);
  });
});

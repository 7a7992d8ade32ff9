import { describe, expect, it, vi } from 'vitest';
import { liveIterator } from '../../src/graphql/live-iterator.js';

/**
 * A feed as the live feeds are: listeners in a set, each value handed to every listener with
 * its number in the feed's log.
 */
function feed<T>() {
  const listeners = new Set<(value: T, seq: number) => void>();
  let seq = 0;
  return {
    listeners,
    listen(listener: (value: T, seq: number) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    send(value: T) {
      seq += 1;
      for (const listener of listeners) listener(value, seq);
    },
  };
}

describe('liveIterator', () => {
  it('hands every value to a client that reads, in order', async () => {
    const source = feed<number>();
    const iterator = liveIterator<number>({}, (emit) => source.listen(emit), 100);
    const first = iterator.next(); // starts the repeater, which registers the listener
    await vi.waitFor(() => expect(source.listeners.size).toBe(1));
    for (let n = 1; n <= 10; n++) source.send(n);
    const seen = [(await first).value];
    for (let n = 2; n <= 10; n++) seen.push((await iterator.next()).value);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await iterator.return();
    expect(source.listeners.size).toBe(0);
  });

  it('detaches a client that stops reading once, instead of failing on every notification', async () => {
    const source = feed<number>();
    const notReading = vi.fn();
    const iterator = liveIterator<number>({ notReading }, (emit) => source.listen(emit), 5);
    const first = iterator.next();
    await vi.waitFor(() => expect(source.listeners.size).toBe(1));
    // The client takes one value, then never asks again; 2,000 more notifications arrive.
    expect(() => { for (let n = 0; n < 2000; n++) source.send(n); }).not.toThrow();
    expect((await first).value).toBe(0);
    expect(notReading).toHaveBeenCalledTimes(1);
    expect(source.listeners.size).toBe(0);
    // At most five were held (the one taken counts until its hand-over settles); they are
    // still delivered in order, then the feed ends.
    const rest: number[] = [];
    for (let result = await iterator.next(); !result.done; result = await iterator.next()) rest.push(result.value);
    expect(rest).toEqual([1, 2, 3, 4]);
  });
});

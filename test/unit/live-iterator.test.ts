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

  it('registers nothing until the stream is read, and nothing at all when it is closed first', async () => {
    const source = feed<number>();
    const unread = liveIterator<number>({}, (emit) => source.listen(emit), 5);
    source.send(1);
    expect(source.listeners.size).toBe(0);
    await unread.return();
    expect(await unread.next()).toEqual({ value: undefined, done: true });
    expect(source.listeners.size).toBe(0);
  });

  it('ends a waiting read when the client leaves, and drops what was queued', async () => {
    const source = feed<number>();
    const iterator = liveIterator<number>({}, (emit) => source.listen(emit), 5);
    const first = iterator.next();
    await vi.waitFor(() => expect(source.listeners.size).toBe(1));
    source.send(1);
    expect((await first).value).toBe(1);
    const waiting = iterator.next();
    await iterator.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(source.listeners.size).toBe(0);
    source.send(2);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('replays what was stored, then what the listener heard meanwhile, with no gap and no repeat at the seam', async () => {
    let emit: ((value: number, seq: number) => void) | undefined;
    let reads = 0;
    const iterator = liveIterator<number>({}, (e) => {
      emit = e;
      return () => (emit = undefined);
    }, 5, {
      after: 1,
      ready: async () => {},
      read: async (after, limit) => {
        reads += 1;
        // 4 and 5 commit while the first page is read: only the listener sees them.
        if (reads === 1) {
          emit!(4, 4);
          emit!(5, 5);
        }
        return [2, 3].filter((n) => n > after).slice(0, limit).map((n) => ({ seq: n, item: n }));
      },
      keep: (n) => n !== 3,
    });
    const seen: number[] = [];
    for (let n = 0; n < 3; n++) seen.push((await iterator.next()).value!);
    const next = iterator.next();
    emit!(5, 5); // a repeat of what was sent
    emit!(6, 6);
    seen.push((await next).value!);
    expect(seen).toEqual([2, 4, 5, 6]);
    await iterator.return();
    expect(emit).toBeUndefined();
  });

  it('fails after the values already queued when the stored feed cannot be read, and detaches', async () => {
    const source = feed<number>();
    const iterator = liveIterator<number>({}, (emit) => source.listen(emit), 5, {
      after: 0,
      ready: async () => {},
      read: async () => { throw new Error('storage down'); },
      keep: () => true,
    });
    await expect(iterator.next()).rejects.toThrow('storage down');
    expect(source.listeners.size).toBe(0);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

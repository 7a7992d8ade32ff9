import { describe, expect, it } from 'vitest';
import { LiveQueue } from '../../src/graphql/live-queue.js';

describe('LiveQueue', () => {
  it('keeps no more slots than it holds for a consumer that stays one value behind', async () => {
    const queue = new LiveQueue<number>(() => {}, () => {});
    queue.push(0);
    for (let n = 1; n <= 10_000; n++) {
      queue.push(n);
      expect((await queue.next()).value).toBe(n - 1);
    }
    expect(queue.pending).toBe(2);
    // The array behind it (private): the slots already taken are dropped as it goes.
    expect((queue as unknown as { values: unknown[] }).values.length).toBeLessThan(2_100);
  });

  it('counts the value the consumer is handling until it asks for the next one', async () => {
    const queue = new LiveQueue<number>(() => {}, () => {});
    const first = queue.next();
    queue.push(1);
    expect(queue.pending).toBe(1);
    await first;
    queue.push(2);
    expect(queue.pending).toBe(2);
    let drained = false;
    void queue.drained().then(() => (drained = true));
    await queue.next();
    await Promise.resolve();
    expect(drained).toBe(false);
    const waiting = queue.next();
    await Promise.resolve();
    expect(drained).toBe(true);
    queue.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});

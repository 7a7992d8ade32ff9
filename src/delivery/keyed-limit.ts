/**
 * At most `limit` tasks at once per key; the rest wait their turn in order (or until their
 * signal aborts). Used to cap one relay's concurrent DNS queries. Our own 30 lines: p-limit
 * has no keys and no abort, and a limiter from rate-limiter-flexible counts a rate, not tasks
 * in flight.
 */
export class KeyedLimit {
  private readonly keys = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { active: 0, waiting: [] }));
    if (state.active >= this.limit) {
      const queue = state.waiting;
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        };
        const abort = () => {
          queue.splice(queue.indexOf(go), 1);
          reject(signal!.reason);
        };
        signal?.throwIfAborted();
        signal?.addEventListener('abort', abort, { once: true });
        queue.push(go);
      });
      // The slot was handed over by the task that finished: `active` already counts this one.
    } else {
      state.active++;
    }
    try {
      return await task();
    } finally {
      const next = state.waiting.shift();
      if (next) next();
      else if (--state.active === 0) this.keys.delete(key);
    }
  }
}

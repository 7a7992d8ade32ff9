type Step<T> = IteratorResult<T, undefined>;

/** Taken slots kept at the front of the array before it is copied down. */
const COMPACT_AFTER = 1024;

const DONE: Step<never> = Object.freeze({ value: undefined, done: true });

/**
 * One subscriber's values, in order, as the async iterator graphql reads: `push` hands a value
 * to a waiting `next` or queues it, `end` lets the queued values out and then finishes (or
 * fails), `return` drops them and finishes at once. A plain array and at most one promise per
 * value: a live feed pushes every change to every matching subscriber, and a general-purpose
 * channel (several promises and closures per push) cost about a fifth of the process CPU per
 * change delivered (bench/live.ts).
 *
 * It holds no bound itself; `pending` is what the owner bounds: the values queued, plus the one
 * the consumer took and has not yet asked past (graphql-ws is still sending it).
 */
export class LiveQueue<T> implements AsyncIterableIterator<T, undefined> {
  private values: T[] = [];
  private head = 0;
  private handing = false;
  private readonly waiting: { resolve(step: Step<T>): void; reject(error: unknown): void }[] = [];
  private drainWaiters: (() => void)[] = [];
  private started = false;
  private ended = false;
  private finished = false;
  private failure: { error: unknown } | undefined;

  /**
   * `start` runs at the first `next` (graphql may create a stream it never reads); `onEnd`
   * runs once, when the queue ends or the consumer leaves, whichever comes first.
   */
  constructor(
    private readonly start: () => void,
    private readonly onEnd: () => void,
  ) {}

  /** Values the consumer has not taken, and the one it is still handling. */
  get pending(): number {
    return this.values.length - this.head + (this.handing ? 1 : 0);
  }

  /** Whether the queue takes no more values (ended, or the consumer left). */
  get closed(): boolean {
    return this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    const waiter = this.waiting.shift();
    if (waiter) {
      this.handing = true;
      waiter.resolve({ value, done: false });
      return;
    }
    this.values.push(value);
  }

  /** No more values: the queued ones still go out, then the stream finishes, or fails with `error`. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.onEnd();
    this.settleDrainWaiters();
    if (this.head === this.values.length) this.finishWaiting();
  }

  /** Resolves once the consumer has taken everything pushed and asked for more, or the queue ended. */
  drained(): Promise<void> {
    if (this.pending === 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  next(): Promise<Step<T>> {
    if (!this.started && !this.ended) {
      this.started = true;
      try {
        this.start();
      } catch (error) {
        this.end(error);
      }
    }
    this.handing = false;
    if (this.head < this.values.length) {
      const value = this.values[this.head]!;
      this.values[this.head] = undefined as T;
      this.head += 1;
      if (this.head === this.values.length) {
        this.values = [];
        this.head = 0;
      } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.values.length) {
        // A consumer that never quite catches up would otherwise keep every slot it passed.
        this.values = this.values.slice(this.head);
        this.head = 0;
      }
      this.handing = true;
      return Promise.resolve({ value, done: false });
    }
    this.settleDrainWaiters();
    if (this.ended) return this.finish();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<Step<T>> {
    this.leave();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<Step<T>> {
    this.leave();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The consumer is gone: what is queued is dropped. */
  private leave(): void {
    this.values = [];
    this.head = 0;
    this.handing = false;
    this.failure = undefined;
    this.end();
    this.finished = true;
    this.finishWaiting();
  }

  private finish(): Promise<Step<T>> {
    const failure = this.finished ? undefined : this.failure;
    this.finished = true;
    this.failure = undefined;
    return failure ? Promise.reject(failure.error) : Promise.resolve(DONE);
  }

  private finishWaiting(): void {
    for (const waiter of this.waiting.splice(0)) {
      const failure = this.finished ? undefined : this.failure;
      this.finished = true;
      this.failure = undefined;
      if (failure) waiter.reject(failure.error);
      else waiter.resolve(DONE);
    }
  }

  private settleDrainWaiters(): void {
    if (this.drainWaiters.length === 0 || (this.pending > 0 && !this.ended)) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

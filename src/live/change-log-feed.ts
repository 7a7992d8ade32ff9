import type { Pool } from 'pg';
import type { Logger } from '../log.js';
import type { Channel } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';

/** One entry of a change log: its number, and the item it stands for (gone if pruned since). */
export interface LogEntry<T> {
  seq: number;
  item: T | undefined;
}

/** A table numbered in commit order by the triggers of `Migration20261201000000_live_change_log`. */
export interface ChangeLog<T> {
  /** The log's name in `live_log_horizon` and in cursors. */
  name: string;
  table: string;
  /** Where new entries are announced; a notification only says "read the log again". */
  channel: Channel<unknown>;
  /** Entries numbered above `after`, in order, at most `limit`. */
  read(pool: Pool, after: number, limit: number): Promise<LogEntry<T>[]>;
  /**
   * The partition of an item (a delivery's relay), for listeners that want one partition only:
   * a feed with hundreds of listeners, each filtered to one relay, then calls the few that can
   * match instead of all of them for every change.
   */
  partitionOf?(item: T): string;
}

export type CursorState = 'ok' | 'expired' | 'unknown';

type Listener<T> = (item: T, seq: number) => void;

const PAGE = 500;
/** After a failed read, the next try; a notification or a reconnect may come sooner. */
const RETRY_MS = 1_000;

/**
 * A live feed read from a change log rather than from NOTIFY payloads. A NOTIFY is only a
 * wake-up: on each one, and after every reconnect of the LISTEN connection (when the
 * notifications sent meanwhile are gone), the feed reads the entries numbered after the last
 * one it dispatched. The numbers follow commit order, so reading "after N" neither skips a
 * change nor dispatches one twice, however notifications are lost, repeated or coalesced.
 * Reads run one after another and are shared by every subscriber of this process; with no
 * subscriber the feed reads nothing and forgets its place.
 */
export class ChangeLogFeed<T> {
  /** Listeners of every item. */
  private readonly listeners = new Set<Listener<T>>();
  /** Listeners of one partition's items (`ChangeLog.partitionOf`). */
  private readonly partitioned = new Map<string, Set<Listener<T>>>();
  private listenerCount = 0;
  private queue: Promise<void> = Promise.resolve();
  /** The last number dispatched; undefined while nobody listens. */
  private position: number | undefined;
  private readQueued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private offs: (() => void)[] = [];

  constructor(
    protected readonly pool: Pool,
    private readonly bus: NotifyBus,
    private readonly log: Logger,
    readonly changeLog: ChangeLog<T>,
  ) {}

  start(): void {
    this.offs = [this.bus.subscribe(this.changeLog.channel, { receive: () => this.catchUp(), resync: () => this.catchUp() })];
  }

  stop(): void {
    for (const off of this.offs) off();
    clearTimeout(this.retryTimer);
    this.listeners.clear();
    this.partitioned.clear();
    this.listenerCount = 0;
  }

  /**
   * Listeners in place: none until the first one's place in the log is found (what it gets
   * starts after that point), so a caller that waits for a subscriber to count misses nothing.
   */
  get subscriberCount(): number {
    return this.position === undefined ? 0 : this.listenerCount;
  }

  /**
   * Each item from now on, with its number; with `partition` (on a log that has partitions),
   * only the items of that partition. The first listener makes the feed find its place.
   */
  listen(listener: Listener<T>, partition?: string): () => void {
    let set = this.listeners;
    if (partition !== undefined && this.changeLog.partitionOf) {
      set = this.partitioned.get(partition) ?? new Set();
      this.partitioned.set(partition, set);
    }
    // The same function twice counts once, as a Set holds it once.
    if (set.has(listener)) return () => {};
    set.add(listener);
    this.listenerCount += 1;
    if (this.listenerCount === 1) this.enqueue(() => this.locate());
    return () => {
      if (!set.delete(listener)) return;
      if (set.size === 0 && set !== this.listeners && this.partitioned.get(partition!) === set) this.partitioned.delete(partition!);
      this.listenerCount -= 1;
      if (this.listenerCount === 0) this.enqueue(async () => (this.listenerCount === 0 ? (this.position = undefined) : undefined));
    };
  }

  /** Resolves once every listener added so far is in place: what it gets live starts after this. */
  ready(): Promise<void> {
    return this.queue;
  }

  read(after: number, limit: number): Promise<LogEntry<T>[]> {
    return this.changeLog.read(this.pool, after, limit);
  }

  /** Whether a resume can start after `seq`: not pruned by retention, not beyond the log. */
  async cursorState(seq: number): Promise<CursorState> {
    const { rows } = await this.pool.query<{ pruned: string | null; latest: string | null }>(
      `select (select pruned_through from live_log_horizon where log = $1)::text as pruned, (select max(seq) from ${this.changeLog.table})::text as latest`,
      [this.changeLog.name],
    );
    const pruned = Number(rows[0]?.pruned ?? 0);
    if (seq > Math.max(pruned, Number(rows[0]?.latest ?? 0))) return 'unknown';
    return seq < pruned ? 'expired' : 'ok';
  }

  private enqueue(task: () => Promise<unknown>): void {
    this.queue = this.queue.then(task).then(
      () => undefined,
      (error: unknown) => {
        this.log.warn({ err: error, log: this.changeLog.name }, 'live feed could not read its change log; retrying');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.catchUp(), RETRY_MS);
      },
    );
  }

  private catchUp(): void {
    if (this.listenerCount === 0 || this.readQueued) return;
    this.readQueued = true;
    this.enqueue(async () => {
      this.readQueued = false;
      await this.dispatchNew();
    });
  }

  private hand(listeners: Set<Listener<T>>, item: T, seq: number): void {
    for (const listener of listeners) {
      try {
        listener(item, seq);
      } catch (error) {
        this.log.warn({ err: error, log: this.changeLog.name }, 'live subscriber failed');
      }
    }
  }

  private async locate(): Promise<void> {
    if (this.position !== undefined || this.listenerCount === 0) return;
    const { rows } = await this.pool.query<{ latest: string | null }>(`select max(seq)::text as latest from ${this.changeLog.table}`);
    this.position = Number(rows[0]?.latest ?? 0);
  }

  private async dispatchNew(): Promise<void> {
    if (this.position === undefined) await this.locate();
    for (;;) {
      if (this.listenerCount === 0 || this.position === undefined) return;
      const entries = await this.changeLog.read(this.pool, this.position, PAGE);
      for (const entry of entries) {
        this.position = entry.seq;
        if (entry.item === undefined) continue;
        this.hand(this.listeners, entry.item, entry.seq);
        const partition = this.partitioned.size > 0 ? this.partitioned.get(this.changeLog.partitionOf!(entry.item)) : undefined;
        if (partition) this.hand(partition, entry.item, entry.seq);
      }
      if (entries.length < PAGE) return;
    }
  }
}

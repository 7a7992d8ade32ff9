import type { LogEntry } from '../live/change-log-feed.js';
import type { GraphQLContext } from './context.js';
import { LiveQueue } from './live-queue.js';

/**
 * Values a subscription may hold for a client before it counts as not reading. graphql-ws
 * awaits each send, so a client that stops reading leaves the feed's values waiting here.
 */
export const MAX_PENDING = 1000;

/** Entries read from storage per statement while a subscription replays what it missed. */
const REPLAY_PAGE = 200;

/** Where a resumed subscription starts, and how it reads what it missed. */
export interface Resume<T> {
  /** The number of the last entry the client has. */
  after: number;
  /** Resolves once the live listener is in place (the feed found its position). */
  ready(): Promise<void>;
  read(after: number, limit: number): Promise<LogEntry<T>[]>;
  /** The subscription's filter, for the stored entries (live ones are filtered by `listen`). */
  keep(item: T): boolean;
}

/**
 * A subscription's source over a live feed: `listen` registers a callback and returns its
 * removal. Past `maxPending` values the client has not taken, the feed is detached, the
 * iterator ends and the socket is closed as not reading (one log line), instead of a failure
 * per notification.
 *
 * With `resume`, the entries after `resume.after` are first replayed from storage, each sent
 * when the client takes the previous one, then the live ones follow. The live listener is in
 * place before the first read, and the live values that arrive meanwhile wait (up to
 * `maxPending`; past it they are dropped and read from storage again, since every one of them
 * is stored): whatever the storage read did not see, the listener did, so the seam has no gap,
 * and values numbered at or below the last one sent are skipped, so it has no repeat.
 */
export function liveIterator<T>(
  ctx: Pick<GraphQLContext, 'notReading'>,
  listen: (emit: (value: T, seq: number) => void) => () => void,
  maxPending = MAX_PENDING,
  resume?: Resume<T>,
): LiveQueue<T> {
  let last = resume?.after ?? -1;
  let held: { value: T; seq: number }[] | undefined = resume ? [] : undefined;
  let heldOverflow = false;
  let off: (() => void) | undefined;
  const queue = new LiveQueue<T>(
    () => {
      off = listen((value, seq) => {
        if (held) {
          if (held.length >= maxPending) {
            held = [];
            heldOverflow = true;
          }
          held.push({ value, seq });
          return;
        }
        if (resume) {
          if (seq <= last) return;
          last = seq;
        }
        send(value);
      });
      if (resume) void replay(resume);
    },
    () => off?.(),
  );
  const send = (value: T): void => {
    if (queue.closed) return;
    if (queue.pending >= maxPending) {
      queue.end();
      ctx.notReading?.();
      return;
    }
    queue.push(value);
  };
  const replay = async (from: Resume<T>): Promise<void> => {
    try {
      await from.ready();
      for (let more = true; more && !queue.closed; ) {
        const entries = await from.read(last, REPLAY_PAGE);
        for (const entry of entries) {
          if (queue.closed) break;
          last = entry.seq;
          if (entry.item !== undefined && from.keep(entry.item)) {
            queue.push(entry.item);
            await queue.drained();
          }
        }
        // A short page is the end of what is stored; dropped live values send us back for more.
        more = entries.length === REPLAY_PAGE || heldOverflow;
        heldOverflow = false;
      }
      const waiting = held ?? [];
      held = undefined;
      for (const { value, seq } of waiting) {
        if (seq <= last) continue;
        last = seq;
        send(value);
      }
    } catch (error) {
      queue.end(error);
    }
  };
  return queue;
}

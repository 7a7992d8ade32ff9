import { Repeater } from '@repeaterjs/repeater';
import type { GraphQLContext } from './context.js';

/**
 * Values a subscription may hold for a client before it counts as not reading. graphql-ws
 * awaits each send, so a client that stops reading leaves the feed's values waiting here; the
 * repeater itself refuses a 1025th pending push by throwing, once per notification.
 */
export const MAX_PENDING = 1000;

/**
 * A subscription's source over a live feed: `listen` registers a callback and returns its
 * removal. Past `maxPending` values the client has not taken, the feed is detached, the
 * iterator ends and the socket is closed as not reading (one log line), instead of a failure
 * per notification.
 */
export function liveIterator<T>(ctx: Pick<GraphQLContext, 'notReading'>, listen: (emit: (value: T) => void) => () => void, maxPending = MAX_PENDING): Repeater<T> {
  return new Repeater<T>(async (push, stop) => {
    let pending = 0;
    let off = (): void => {};
    off = listen((value) => {
      if (pending >= maxPending) {
        off();
        stop();
        ctx.notReading?.();
        return;
      }
      pending += 1;
      void push(value).then(() => (pending -= 1));
    });
    await stop;
    off();
  });
}

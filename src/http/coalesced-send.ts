import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Below this many bytes waiting on a socket, a send counts as done as soon as it is queued:
 * past it, the sender waits for the bytes to leave, as graphql-ws always did, so a client that
 * stops reading still holds its operations back (and the live iterator's backlog bound, and
 * the send-buffer bound, see it).
 */
export const EARLY_ACK_BYTES = 64 * 1024;

type SendCallback = (error?: Error) => void;

/**
 * Makes the frames sent to one websocket within one turn of the event loop leave in one write.
 * graphql-ws awaits each frame's write callback before taking an operation's next value, and ws
 * writes every frame on its own (TCP_NODELAY): a live feed's burst of changes cost one write
 * system call and one loopback segment per frame per socket, the largest cost of the feed. Here
 * the socket is corked until the end of the turn, and a send is acknowledged at once while
 * little is waiting, so the operation's following values are serialised in the same turn and
 * leave together. Order is the stream's; nothing is dropped.
 */
export function coalesceSends(ws: WebSocket, raw: Duplex): void {
  const send = ws.send.bind(ws) as (data: unknown, options: object, cb?: SendCallback) => void;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    raw.uncork();
  };
  const coalesced = (data: unknown, optionsOrCallback?: object | SendCallback, callback?: SendCallback): void => {
    const cb = typeof optionsOrCallback === 'function' ? (optionsOrCallback as SendCallback) : callback;
    const options = typeof optionsOrCallback === 'object' ? optionsOrCallback : {};
    if (!corked && ws.readyState === ws.OPEN) {
      corked = true;
      raw.cork();
      process.nextTick(uncork);
    }
    if (!cb || ws.bufferedAmount >= EARLY_ACK_BYTES) {
      send(data, options, cb);
      return;
    }
    // A write that fails later closes the socket, which ends its operations.
    send(data, options, () => {});
    cb();
  };
  ws.send = coalesced as WebSocket['send'];
}

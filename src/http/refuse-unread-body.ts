import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused sender gets to read the answer before its connection is dropped. */
const LINGER_MS = 1000;

/**
 * The rest of a refused body (too large, or no room for it) is never read: reading stays
 * paused (TCP backpressure holds the sender) while the whole answer goes out, and the
 * connection closes a moment later. Ending the response at once would make Node destroy the
 * socket with unread bytes in it, which resets the connection, and a reset makes the sender's
 * kernel discard our answer before the sender has read it.
 */
export function refuseUnreadBody(request: IncomingMessage, response: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  request.pause();
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', ...headers });
  response.write(body);
  setTimeout(() => response.end(), LINGER_MS).unref();
}

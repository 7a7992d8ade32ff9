import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The one way a JSON answer is written, by both front doors and the transports: it sits in
 * the infrastructure layer so ingest/ can use it without importing http/.
 */

/** How long a refused sender gets to read the answer before its connection is dropped. */
const LINGER_MS = 1000;

/** A JSON answer's headers: type and exact length first; `headers` add to them or replace them. */
export function jsonHeaders(text: string, headers: Record<string, string> = {}): Record<string, string | number> {
  return { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers };
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, jsonHeaders(text, headers));
  response.end(text);
}

/**
 * The rest of a refused body (too large, or no room for it) is never read: reading stays
 * paused (TCP backpressure holds the sender) while the whole answer goes out, and the
 * connection closes a moment later. Ending the response at once would make Node destroy the
 * socket with unread bytes in it, which resets the connection, and a reset makes the sender's
 * kernel discard our answer before the sender has read it.
 */
export function refuseUnreadBody(request: IncomingMessage, response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  request.pause();
  const text = JSON.stringify(body);
  response.writeHead(status, jsonHeaders(text, { connection: 'close', ...headers }));
  response.write(text);
  setTimeout(() => response.end(), LINGER_MS).unref();
}

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

/** Bodies a refusal reads to the end before answering; past this, the rest is left unread. */
const DISCARD_BYTES = 64 * 1024;

/**
 * A refusal (503 while starting or stopping) of a request whose body is still coming: the
 * body is read and dropped first, so that closing the connection after the answer never
 * resets it (bytes arriving at a closed socket make its kernel send a reset, and the client's
 * kernel then drops our answer unread). A body larger than a webhook's usual size is refused
 * unread instead (refuseUnreadBody).
 */
export function refuseAfterBody(request: IncomingMessage, response: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  let seen = 0;
  let done = false;
  const finish = (answer: () => void) => {
    if (done) return;
    done = true;
    request.off('data', onData);
    answer();
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_BYTES) finish(() => refuseUnreadBody(request, response, status, body, headers));
  };
  request.on('data', onData);
  request.once('end', () => finish(() => {
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    response.end(body);
  }));
  request.once('error', () => (done = true));
}

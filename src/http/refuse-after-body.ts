import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors.js';
import { refuseUnreadBody, sendJson } from '../wire/json-response.js';
import { readBody } from '../wire/read-body.js';

/** Bodies a refusal reads to the end before answering; past this, the rest is left unread. */
const DISCARD_BYTES = 64 * 1024;

const discardCap = { limit: DISCARD_BYTES, tooLarge: () => new AppError('PAYLOAD_TOO_LARGE', 'not read') };

/**
 * A refusal (503 while starting or stopping) of a request whose body is still coming: the
 * body is read and dropped first, so that closing the connection after the answer never
 * resets it (bytes arriving at a closed socket make its kernel send a reset, and the client's
 * kernel then drops our answer unread). A body larger than a webhook's usual size is refused
 * unread instead (refuseUnreadBody); a client gone mid-body gets no answer.
 */
export function refuseAfterBody(request: IncomingMessage, response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  readBody(request, discardCap).then(
    () => sendJson(response, status, body, headers),
    (error: AppError) => {
      if (error.code === 'PAYLOAD_TOO_LARGE') refuseUnreadBody(request, response, status, body, headers);
    },
  );
}

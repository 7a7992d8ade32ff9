import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppError } from '../errors.js';
import { jsonHeaders } from '../wire/json-response.js';

/** How long the client gets to read the answer before the socket is destroyed. */
const LINGER_MS = 1000;

/**
 * An answer written straight to a socket Node hands over without a response object (an
 * `upgrade` or a `CONNECT`), in the one error shape, then the connection closed: without it
 * the client would see its connection dropped with no answer at all.
 */
export function answerSocket(socket: Duplex, error: AppError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(error.toBody());
  const lines = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    ...Object.entries(jsonHeaders(body, { connection: 'close', ...headers })).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.on('error', () => undefined);
  if (!socket.writable) return void socket.destroy();
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { ingestRequests } from '../metrics.js';
import type { IngestSource } from './presets/preset.js';
import type { RejectedLog } from './rejected-log.js';

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export interface FailureContext {
  slug: string;
  source: IngestSource | undefined;
  bodyBytes: number | null;
  remoteAddress: string | null;
}

/** Status codes whose rejections are sampled, so a flood cannot fill the table. */
const SAMPLED = new Set([404, 429]);

/**
 * Only AppErrors reach the client as themselves, in the one body shape; a down database is a
 * 503 with Retry-After (and no log row: the log lives in that database); anything else a
 * masked 500. Every refusal is recorded in the rejected-request log.
 */
export async function answerError(
  deps: { rejected: RejectedLog; log: Logger },
  request: IncomingMessage,
  response: ServerResponse,
  error: unknown,
  context: FailureContext,
): Promise<void> {
  ingestRequests.inc({ outcome: error instanceof AppError ? error.code : isDatabaseUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'INTERNAL' });
  if (!(error instanceof AppError)) {
    if (isDatabaseUnavailable(error)) {
      sendJson(response, 503, new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later').toBody(), { 'retry-after': '5' });
      return;
    }
    deps.log.error({ err: error, slug: context.slug }, 'ingest failed');
    sendJson(response, 500, new AppError('INTERNAL', 'internal error').toBody());
    return;
  }
  await deps.rejected.record({
    sourceId: context.source?.id ?? null,
    slug: context.slug,
    reason: error.code,
    message: error.message,
    status: error.status,
    bodyBytes: context.bodyBytes,
    remoteAddress: context.remoteAddress,
    sampled: SAMPLED.has(error.status),
  });
  if (error.code === 'PAYLOAD_TOO_LARGE') {
    refuseOversizedBody(request, response, JSON.stringify(error.toBody()));
    return;
  }
  const headers: Record<string, string> = {};
  if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST';
  if (error.code === 'RATE_LIMITED') headers['retry-after'] = String(error.details.retryAfter ?? 1);
  if (error.status === 401 && context.source?.basicAuth) headers['www-authenticate'] = 'Basic realm="hookyard", charset="UTF-8"';
  sendJson(response, error.status, error.toBody(), headers);
}

/** How long a refused sender gets to read the 413 before its connection is dropped. */
const LINGER_MS = 1000;

/**
 * The rest of an oversized body is never read: reading stays paused (TCP backpressure holds
 * the sender) while the whole answer goes out, and the connection closes a moment later.
 * Ending the response at once would make Node destroy the socket with unread bytes in it,
 * which resets the connection, and a reset makes the sender's kernel discard our answer
 * before the sender has read it.
 */
function refuseOversizedBody(request: IncomingMessage, response: ServerResponse, body: string): void {
  request.pause();
  response.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.write(body);
  setTimeout(() => response.end(), LINGER_MS).unref();
}

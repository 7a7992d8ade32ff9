import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { ingestRejected, ingestRequests } from '../metrics.js';
import { refuseUnreadBody, sendJson } from '../wire/json-response.js';
import type { IngestSource } from '../sources/presets/preset.js';
import type { RejectedLog } from './rejected-log.js';

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export interface FailureContext {
  slug: string;
  source: IngestSource | undefined;
  bodyBytes: number | null;
  remoteAddress: string | null;
  correlationId: string;
}

/**
 * Only AppErrors reach the client as themselves, in the one body shape; a down database is a
 * 503 with Retry-After (and no log row: the log lives in that database); anything else a
 * masked 500. Every refusal of the sender is counted in the rejected-request log (aggregated,
 * in the background); a busy server (503) is not the sender's doing and is not logged.
 */
export function answerError(
  deps: { rejected: RejectedLog; log: Logger },
  request: IncomingMessage,
  response: ServerResponse,
  error: unknown,
  context: FailureContext,
): void {
  ingestRequests.inc({ outcome: error instanceof AppError ? error.code : isDatabaseUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'INTERNAL' });
  // The sender is gone (or was timed out by the server): nobody to answer.
  if (response.headersSent || response.destroyed) return;
  if (!(error instanceof AppError)) {
    if (isDatabaseUnavailable(error)) {
      sendJson(response, 503, new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later').toBody(), { 'retry-after': '5' });
      return;
    }
    deps.log.error({ err: error, slug: context.slug, correlationId: context.correlationId }, 'ingest failed');
    sendJson(response, 500, new AppError('INTERNAL', 'internal error').toBody());
    return;
  }
  if (error.status !== 503) {
    ingestRejected.inc({ reason: error.code });
    deps.rejected.record({
      sourceId: context.source?.id ?? null,
      // An unknown slug's bucket keeps it as a sample; a known source's row names it.
      slug: context.source?.slug ?? context.slug,
      reason: error.code,
      message: error.message,
      status: error.status,
      bodyBytes: context.bodyBytes,
      remoteAddress: context.remoteAddress,
    });
  }
  const headers: Record<string, string> = {};
  if (error.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST';
  if (error.code === 'RATE_LIMITED' || error.status === 503) headers['retry-after'] = String(error.details.retryAfter ?? 1);
  if (error.status === 401 && context.source?.basicAuth) headers['www-authenticate'] = 'Basic realm="hookyard", charset="UTF-8"';
  if ((error.code === 'PAYLOAD_TOO_LARGE' || error.code === 'INGEST_BUSY') && !request.complete) {
    refuseUnreadBody(request, response, error.status, error.toBody(), headers);
    return;
  }
  sendJson(response, error.status, error.toBody(), headers);
}

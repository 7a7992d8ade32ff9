import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import { acceptEvent } from '../events/accept.js';
import type { Logger } from '../log.js';
import { describeField, readField } from './field-spec.js';
import { presets } from './presets/index.js';
import type { IngestSource, Preset } from './presets/preset.js';
import { readBody } from './read-body.js';
import type { RejectedLog } from './rejected-log.js';
import { createIngestRequest, type IngestRequest } from './request.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { findIngestSource } from './source-lookup.js';

export const INGEST_PATH = /^\/ingest\/([^/?#]+)\/?$/;

/** Headers never stored with an event: credentials, signatures and hop-by-hop noise. */
const DROPPED_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'host', 'content-length', 'connection', 'keep-alive',
  'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer',
]);

export interface IngestDeps {
  pool: Pool;
  boss: PgBoss;
  keyring: Keyring;
  rejected: RejectedLog;
  log: Logger;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function storedHeaders(request: IngestRequest, dropped: string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name) || dropped.includes(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function resolveEventType(preset: Preset, source: IngestSource, request: IngestRequest): string {
  const spec = source.eventTypeFrom ?? ('fixed' in preset.eventType ? null : preset.eventType);
  if (!spec) return (preset.eventType as { fixed: string }).fixed;
  const value = readField(spec, request);
  if (value) return value;
  if (preset.eventTypeRequired || source.eventTypeFrom) {
    throw new AppError('MISSING_HEADER', `missing event type: ${describeField(spec)} is required`);
  }
  return 'fixed' in preset.eventType ? preset.eventType.fixed : 'webhook';
}

function resolveIdempotencyKey(preset: Preset, source: IngestSource, request: IngestRequest): string | null {
  const spec = source.idempotencyKeyFrom ?? preset.idempotencyKey;
  const value = spec ? readField(spec, request) : undefined;
  if (value) return value.slice(0, 500);
  if (source.requireIdempotencyKey) {
    throw new AppError('MISSING_HEADER', spec ? `missing idempotency key: ${describeField(spec)} is required` : 'this source requires an idempotency key but reads it from nowhere');
  }
  return null;
}

/**
 * `POST /ingest/:slug`: every check (size, signature, JSON, required fields) before the
 * idempotency look-up, then one transaction for the event, its deliveries and their jobs.
 * The answer is 200 only after that commit.
 */
export async function handleIngest(deps: IngestDeps, request: IncomingMessage, response: ServerResponse, slug: string, query: URLSearchParams): Promise<void> {
  const remoteAddress = request.socket.remoteAddress ?? null;
  let source: IngestSource | undefined;
  let bodyBytes: number | null = Number(request.headers['content-length']) || null;
  try {
    if (request.method !== 'POST') throw new AppError('METHOD_NOT_ALLOWED', 'ingest endpoints accept POST only');
    source = await findIngestSource(deps.pool, deps.keyring, slug, new Date());
    if (!source || !source.enabled) throw new AppError('SOURCE_NOT_FOUND', `no enabled source with slug "${slug}"`);
    const preset = presets[source.preset];
    if (!preset) throw new AppError('SOURCE_NOT_FOUND', `source "${slug}" uses preset ${source.preset}, which this build cannot verify`);
    if (source.secrets.length === 0) {
      throw new AppError('SECRET_UNAVAILABLE', source.secretError ?? `source "${slug}" has no live secret to verify with`);
    }

    const body = await readBody(request, source.maxBodyBytes);
    bodyBytes = body.length;
    const ingest = createIngestRequest(request.headers, query, body);
    preset.verify(ingest, source, Math.floor(Date.now() / 1000));
    if (preset.requiresJson && ingest.json() === undefined) throw new AppError('INVALID_JSON', 'body must be valid JSON for this source');
    const type = resolveEventType(preset, source, ingest);
    const idempotencyKey = resolveIdempotencyKey(preset, source, ingest);

    const contentType = request.headers['content-type'] ?? null;
    const result = await acceptEvent(deps.pool, deps.boss, {
      sourceId: source.id,
      type,
      idempotencyKey,
      headers: storedHeaders(ingest, preset.signatureHeaders(source)),
      contentType,
      body,
    });
    send(response, 200, { id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' });
  } catch (error) {
    await answerError(deps, request, response, error, { slug, source, bodyBytes, remoteAddress });
  }
}

interface FailureContext {
  slug: string;
  source: IngestSource | undefined;
  bodyBytes: number | null;
  remoteAddress: string | null;
}

/** Only AppErrors reach the client as themselves; a down database is a 503, anything else a masked 500. */
async function answerError(deps: IngestDeps, request: IncomingMessage, response: ServerResponse, error: unknown, context: FailureContext): Promise<void> {
  if (!(error instanceof AppError)) {
    if (isDatabaseUnavailable(error)) {
      const unavailable = new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later');
      send(response, 503, unavailable.toBody(), { 'retry-after': '5' });
      return;
    }
    deps.log.error({ err: error, slug: context.slug }, 'ingest failed');
    send(response, 500, new AppError('INTERNAL', 'internal error').toBody());
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
    sampled: error.status === 404 || error.status === 429,
  });
  if (error.code === 'PAYLOAD_TOO_LARGE') {
    // Answer, then drop the connection instead of reading the rest of the body.
    response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    response.end(JSON.stringify(error.toBody()), () => request.socket.destroy());
    return;
  }
  const headers: Record<string, string> = error.code === 'METHOD_NOT_ALLOWED' ? { allow: 'POST' } : {};
  send(response, error.status, error.toBody(), headers);
}

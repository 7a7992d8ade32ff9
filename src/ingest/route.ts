import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { Tracer } from '@opentelemetry/api';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import type { NewEvent } from '../events/accept.js';
import type { AcceptBatcher } from '../events/accept-batcher.js';
import type { Logger } from '../log.js';
import { answerError, sendText } from './answer.js';
import type { BodyBudget } from '../wire/body-budget.js';
import { describeField, readField } from '../sources/field-spec.js';
import { sendJson } from '../wire/json-response.js';
import { refuseNul } from './refuse-nul.js';
import { splitAdyen } from '../sources/presets/adyen.js';
import { PLATFORM_SIGNATURE_HEADER } from '../sources/presets/adyen-items.js';
import { presets } from '../sources/presets/index.js';
import type { IngestSource, Preset } from '../sources/presets/preset.js';
import { slackChallenge } from '../sources/presets/slack.js';
import type { RateLimits } from './rate-limit.js';
import { readBody } from '../wire/read-body.js';
import { storedHeaders } from './stored-headers.js';
import type { RejectedLog } from './rejected-log.js';
import { createIngestRequest, header, type IngestRequest } from '../sources/request.js';
import type { SourceCache } from '../sources/source-cache.js';
import { ingestRequests } from '../metrics.js';
import { checkBasicAuth } from '../sources/verify.js';
import { startIngestTrace } from '../tracing/ingest-trace.js';
import { trustedRequestId } from './correlation-id.js';

export const INGEST_PATH = /^\/ingest\/([^/?#]+)\/?$/;

/** The one slug rule (DESIGN.md); checked before any I/O, so cache keys and look-ups stay bounded. */
export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How long the source look-up may take before the answer is 503 (it stores nothing). */
const LOOKUP_DEADLINE_MS = 4500;

/** Idempotency keys longer than this are stored as `sha256:<hex>`: cutting them would merge distinct keys. */
const MAX_IDEMPOTENCY_KEY = 500;

export function storedIdempotencyKey(key: string): string {
  return key.length > MAX_IDEMPOTENCY_KEY ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
}

export interface IngestDeps {
  pool: Pool;
  /** Who sent the request (the peer, or what a trusted reverse proxy saw): the transport knows. */
  clientAddress(request: IncomingMessage): string;
  boss: PgBoss;
  keyring: Keyring;
  rejected: RejectedLog;
  rateLimits: RateLimits;
  /** Request bodies held in memory at once, over all requests. */
  bodyBudget: BodyBudget;
  sources: SourceCache;
  /** Group commit: concurrent requests share transactions (events/accept-batcher.ts). */
  acceptor: AcceptBatcher;
  log: Logger;
  /** Whether the peer is one of the operator's reverse proxies (whose `X-Request-Id` names the request). */
  viaTrustedProxy(request: IncomingMessage): boolean;
  /** Set when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT); undefined costs nothing. */
  tracer?: Tracer;
}

function resolveEventType(preset: Preset, source: IngestSource, request: IngestRequest): string {
  if (source.eventTypeFrom) {
    const value = readField(source.eventTypeFrom, request);
    if (!value) throw new AppError('MISSING_HEADER', `missing event type: ${describeField(source.eventTypeFrom)} is required`);
    return value.slice(0, 200);
  }
  if (preset.readEventType) return (preset.readEventType(request) ?? 'webhook').slice(0, 200);
  if ('fixed' in preset.eventType) return preset.eventType.fixed;
  const value = readField(preset.eventType, request);
  if (value) return value.slice(0, 200);
  if (preset.eventTypeRequired) throw new AppError('MISSING_HEADER', `missing event type: ${describeField(preset.eventType)} is required`);
  return 'webhook';
}

function resolveIdempotencyKey(preset: Preset, source: IngestSource, request: IngestRequest): string | null {
  const spec = source.idempotencyKeyFrom ?? preset.idempotencyKey;
  const value = source.idempotencyKeyFrom || !preset.readIdempotencyKey ? (spec ? readField(spec, request) : undefined) : preset.readIdempotencyKey(request);
  if (value) return value;
  if (source.requireIdempotencyKey) {
    throw new AppError('MISSING_HEADER', spec ? `missing idempotency key: ${describeField(spec)} is required` : 'this source requires an idempotency key but reads it from nowhere');
  }
  return null;
}

/** Where a source's event type and key come from, for a refusal's message (a preset reading several places names none). */
function origins(preset: Preset, source: IngestSource): { type?: string; key?: string } {
  const type = source.eventTypeFrom ?? (preset.readEventType || 'fixed' in preset.eventType ? null : preset.eventType);
  const key = source.idempotencyKeyFrom ?? (preset.readIdempotencyKey ? null : preset.idempotencyKey);
  return { type: type ? describeField(type) : undefined, key: key ? describeField(key) : undefined };
}

/** The events one verified request becomes: one, except an Adyen notification's items. */
function eventsOf(preset: Preset, source: IngestSource, request: IngestRequest, contentType: string | null, trace: Pick<NewEvent, 'correlationId' | 'traceparent'>): NewEvent[] {
  const headers = storedHeaders(request, preset, source);
  if (source.preset === 'ADYEN') {
    const platform = header(request, PLATFORM_SIGNATURE_HEADER) !== undefined;
    return splitAdyen(request).map((item, i) => {
      refuseNul('event type', item.type, platform ? 'JSON field $.type' : `eventCode of notificationItems[${i}]`);
      refuseNul('idempotency key', item.idempotencyKey, `pspReference:eventCode:success of notificationItems[${i}]`);
      const idempotencyKey = item.idempotencyKey === null ? null : storedIdempotencyKey(item.idempotencyKey);
      return { sourceId: source.id, type: item.type, idempotencyKey, headers, contentType: 'application/json', body: item.body, ...trace };
    });
  }
  const type = resolveEventType(preset, source, request);
  const key = resolveIdempotencyKey(preset, source, request);
  const from = origins(preset, source);
  refuseNul('event type', type, from.type);
  // Before hashing: a long key holding NUL is refused like a short one, not hashed into a valid one.
  refuseNul('idempotency key', key, from.key);
  const dedupe = source.dedupeWindowSeconds ? { sha256: createHash('sha256').update(request.body).digest(), windowSeconds: source.dedupeWindowSeconds } : undefined;
  return [{ sourceId: source.id, type, idempotencyKey: key === null ? null : storedIdempotencyKey(key), headers, contentType, body: request.body, dedupe, ...trace }];
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('database did not answer in time'), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Refusals that say nothing about the sender's address (its own source's rate; the server busy). */
const NOT_THE_SENDERS_FAULT = new Set(['RATE_LIMITED', 'INGEST_BUSY', 'DATABASE_UNAVAILABLE', 'ADDRESS_NOT_ALLOWED']);

/** A slug with broken percent-encoding is just an unknown slug (404), not a server error. */
export function decodeSlug(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The handler of INGEST_PATH: its first group is the slug, still percent-encoded. */
export function ingestHandler(deps: IngestDeps): (request: IncomingMessage, response: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void> {
  return (request, response, url, match) => handleIngest(deps, request, response, decodeSlug(match[1]!), url);
}

/**
 * `POST /ingest/:slug`. Method and slug are checked before any I/O; then the source (cached),
 * its allowed addresses, the address's recent failures, credentials, size, encoding and
 * signature; only a verified request counts against the source's rate; then JSON and the
 * required fields, all before the idempotency look-up; then one transaction for the events,
 * their deliveries and their jobs. The answer is 200 only after that commit. Every answer carries
 * the request's correlation id (`X-Request-Id`), stored with its events and logged with their
 * attempts (tracing/ingest-trace.ts).
 */
export async function handleIngest(deps: IngestDeps, request: IncomingMessage, response: ServerResponse, slug: string, url: URL): Promise<void> {
  const remoteAddress = deps.clientAddress(request) || null;
  let source: IngestSource | undefined;
  let bodyBytes: number | null = Number(request.headers['content-length']) || null;
  let verified = false;
  const lease = deps.bodyBudget.lease();
  const trace = startIngestTrace(deps.tracer, {
    requestId: trustedRequestId(request.headers, deps.viaTrustedProxy(request)),
    traceparent: request.headers.traceparent,
    method: request.method,
  });
  response.setHeader('x-request-id', trace.correlationId);
  let outcome: string | undefined;
  try {
    if (request.method !== 'POST') throw new AppError('METHOD_NOT_ALLOWED', 'ingest endpoints accept POST only');
    if (!SLUG.test(slug)) throw new AppError('SOURCE_NOT_FOUND', 'no source has this slug: a slug matches ^[a-z0-9][a-z0-9-]{0,62}$');
    const now = new Date();
    source = deps.sources.cached(slug, now) ?? (await withDeadline(deps.sources.find(slug, now), LOOKUP_DEADLINE_MS));
    if (!source || !source.enabled) {
      source = undefined;
      await deps.rateLimits.checkFailures(null, remoteAddress);
      throw new AppError('SOURCE_NOT_FOUND', `no enabled source with slug "${slug}"`);
    }
    if (source.allowedAddress && !(remoteAddress && source.allowedAddress(remoteAddress))) {
      throw new AppError('ADDRESS_NOT_ALLOWED', 'this source does not accept requests from your address');
    }
    await deps.rateLimits.checkFailures(source.id, remoteAddress);
    trace.attributes({ 'hookyard.source.slug': source.slug, 'hookyard.source.preset': source.preset });
    const preset = presets[source.preset];
    if (source.basicAuth && !checkBasicAuth(request.headers.authorization, source.basicAuth.username, source.basicAuth.password)) {
      throw new AppError('INVALID_CREDENTIALS', 'wrong or missing HTTP Basic credentials');
    }
    if (source.secrets.length === 0) {
      // Which key is missing is the operator's business (SourceCache logs it), not the caller's.
      throw new AppError('SECRET_UNAVAILABLE', source.secretError ? `source "${slug}" cannot verify requests: its secret is unavailable to this server` : `source "${slug}" has no live secret to verify with`);
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      // Signatures cover the bytes as sent, and a decompressed body could be any size.
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'compressed bodies are not accepted: send Content-Encoding identity (or none)');
    }

    const limit = source.maxBodyBytes;
    const body = await readBody(request, { limit, lease, tooLarge: () => new AppError('PAYLOAD_TOO_LARGE', `body is larger than this source's limit of ${limit} bytes`) });
    bodyBytes = body.length;
    const ingest = createIngestRequest(request.headers, url.searchParams, body, url.search.slice(1));
    const verifying = source;
    trace.verify(() => preset.verify(ingest, verifying, Math.floor(Date.now() / 1000)));
    verified = true;
    await deps.rateLimits.takeVerified(source);
    if (preset.requiresJson && ingest.json() === undefined) throw new AppError('INVALID_JSON', 'body must be valid JSON for this source');

    const challenge = source.preset === 'SLACK' ? slackChallenge(ingest) : undefined;
    if (challenge !== undefined) {
      // Slack's url_verification handshake: answered, never stored.
      sendJson(response, 200, { challenge });
      return;
    }
    const events = eventsOf(preset, source, ingest, header(ingest, 'content-type') ?? null, { correlationId: trace.correlationId, traceparent: trace.traceparent });
    // Bounded by the batcher itself: committed and answered 200, or dropped and answered 503.
    const results = await trace.commit(() => deps.acceptor.accept(events));
    for (const result of results) ingestRequests.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
    if (deps.log.isLevelEnabled('debug')) deps.log.debug({ correlationId: trace.correlationId, slug, eventIds: results.map((r) => r.id) }, 'webhook accepted');
    if (source.preset === 'ADYEN') {
      // Adyen retries anything but this exact body.
      sendText(response, 200, '[accepted]');
      return;
    }
    const result = results[0]!;
    sendJson(response, 200, { id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' });
  } catch (error) {
    outcome = error instanceof AppError ? error.code : 'ERROR';
    // Only what an address does itself counts against it (before its request verified).
    if (!verified && error instanceof AppError && SLUG.test(slug) && request.method === 'POST' && !NOT_THE_SENDERS_FAULT.has(error.code)) {
      deps.rateLimits.recordFailure(source?.id ?? null, remoteAddress);
    }
    answerError(deps, request, response, error, { slug, source, bodyBytes, remoteAddress, correlationId: trace.correlationId });
  } finally {
    lease.release();
    trace.end(response.statusCode, outcome);
  }
}

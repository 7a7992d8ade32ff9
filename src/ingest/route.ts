import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Keyring } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import type { NewEvent } from '../events/accept.js';
import type { AcceptBatcher } from '../events/accept-batcher.js';
import type { Logger } from '../log.js';
import { answerError, sendJson, sendText } from './answer.js';
import { describeField, readField } from './field-spec.js';
import { refuseNul } from './refuse-nul.js';
import { splitAdyen } from './presets/adyen.js';
import { PLATFORM_SIGNATURE_HEADER } from './presets/adyen-items.js';
import { presets } from './presets/index.js';
import type { IngestSource, Preset } from './presets/preset.js';
import { slackChallenge } from './presets/slack.js';
import type { RateLimits } from './rate-limit.js';
import { readBody } from './read-body.js';
import { storedHeaders } from './stored-headers.js';
import type { RejectedLog } from './rejected-log.js';
import { createIngestRequest, header, type IngestRequest } from './request.js';
import type { SourceCache } from './source-cache.js';
import type { ClientAddress } from '../http/client-address.js';
import { ingestRequests } from '../metrics.js';
import { checkBasicAuth } from './verify.js';

export const INGEST_PATH = /^\/ingest\/([^/?#]+)\/?$/;

/** An acknowledged webhook must be committed; past this, answer 503 rather than hang. */
const COMMIT_DEADLINE_MS = 4500;

export interface IngestDeps {
  pool: Pool;
  /** Who sent the request (the peer, or what a trusted reverse proxy saw). */
  clientAddress: ClientAddress;
  boss: PgBoss;
  keyring: Keyring;
  rejected: RejectedLog;
  rateLimits: RateLimits;
  sources: SourceCache;
  /** Group commit: concurrent requests share transactions (events/accept-batcher.ts). */
  acceptor: AcceptBatcher;
  log: Logger;
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
  if (value) return value.slice(0, 500);
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
function eventsOf(preset: Preset, source: IngestSource, request: IngestRequest, contentType: string | null): NewEvent[] {
  const headers = storedHeaders(request, preset, source);
  if (source.preset === 'ADYEN') {
    const platform = header(request, PLATFORM_SIGNATURE_HEADER) !== undefined;
    return splitAdyen(request).map((item, i) => {
      refuseNul('event type', item.type, platform ? 'JSON field $.type' : `eventCode of notificationItems[${i}]`);
      refuseNul('idempotency key', item.idempotencyKey, `pspReference:eventCode:success of notificationItems[${i}]`);
      return { sourceId: source.id, type: item.type, idempotencyKey: item.idempotencyKey, headers, contentType: 'application/json', body: item.body };
    });
  }
  const type = resolveEventType(preset, source, request);
  const idempotencyKey = resolveIdempotencyKey(preset, source, request);
  const from = origins(preset, source);
  refuseNul('event type', type, from.type);
  refuseNul('idempotency key', idempotencyKey, from.key);
  return [{ sourceId: source.id, type, idempotencyKey, headers, contentType, body: request.body }];
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('database did not answer in time'), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * `POST /ingest/:slug`: every check (rate, credentials, size, signature, JSON, required
 * fields) before the idempotency look-up, then one transaction for the events, their
 * deliveries and their jobs. The answer is 200 only after that commit.
 */
export async function handleIngest(deps: IngestDeps, request: IncomingMessage, response: ServerResponse, slug: string, url: URL): Promise<void> {
  const remoteAddress = deps.clientAddress(request) || null;
  let source: IngestSource | undefined;
  let bodyBytes: number | null = Number(request.headers['content-length']) || null;
  try {
    if (request.method !== 'POST') throw new AppError('METHOD_NOT_ALLOWED', 'ingest endpoints accept POST only');
    source = await withDeadline(deps.sources.find(slug, new Date()), COMMIT_DEADLINE_MS);
    if (!source || !source.enabled) throw new AppError('SOURCE_NOT_FOUND', `no enabled source with slug "${slug}"`);
    const preset = presets[source.preset];
    await deps.rateLimits.take(source);
    if (source.basicAuth && !checkBasicAuth(request.headers.authorization, source.basicAuth.username, source.basicAuth.password)) {
      throw new AppError('INVALID_CREDENTIALS', 'wrong or missing HTTP Basic credentials');
    }
    if (source.secrets.length === 0) {
      // Which key is missing is the operator's business (SourceCache logs it), not the caller's.
      throw new AppError('SECRET_UNAVAILABLE', source.secretError ? `source "${slug}" cannot verify requests: its secret is unavailable to this server` : `source "${slug}" has no live secret to verify with`);
    }

    const body = await readBody(request, source.maxBodyBytes);
    bodyBytes = body.length;
    const ingest = createIngestRequest(request.headers, url.searchParams, body, url.search.slice(1));
    preset.verify(ingest, source, Math.floor(Date.now() / 1000));
    if (preset.requiresJson && ingest.json() === undefined) throw new AppError('INVALID_JSON', 'body must be valid JSON for this source');

    const challenge = source.preset === 'SLACK' ? slackChallenge(ingest) : undefined;
    if (challenge !== undefined) {
      // Slack's url_verification handshake: answered, never stored.
      sendJson(response, 200, { challenge });
      return;
    }
    const events = eventsOf(preset, source, ingest, header(ingest, 'content-type') ?? null);
    const results = await withDeadline(deps.acceptor.accept(events), COMMIT_DEADLINE_MS);
    for (const result of results) ingestRequests.inc({ outcome: result.duplicate ? 'duplicate' : 'accepted' });
    if (source.preset === 'ADYEN') {
      // Adyen retries anything but this exact body.
      sendText(response, 200, '[accepted]');
      return;
    }
    const result = results[0]!;
    sendJson(response, 200, { id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' });
  } catch (error) {
    await answerError(deps, request, response, error, { slug, source, bodyBytes, remoteAddress });
  }
}

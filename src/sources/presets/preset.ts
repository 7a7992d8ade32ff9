import type { SourcePreset } from '../../db/entities/source.js';
import type { FieldSpec } from '../field-spec.js';
import type { IngestRequest } from '../request.js';

/** A source as the ingest path needs it: settings resolved, live secrets unsealed. */
export interface IngestSource {
  id: string;
  slug: string;
  preset: SourcePreset;
  enabled: boolean;
  /** Every secret still live (rotation keeps several); any one verifies. */
  secrets: string[];
  /** Set when a stored secret is sealed under a key this process does not hold. */
  secretError: string | null;
  toleranceSeconds: number | null;
  maxBodyBytes: number;
  requireIdempotencyKey: boolean;
  signatureHeader: string | null;
  signatureAlgorithm: string | null;
  signatureEncoding: string | null;
  signaturePrefix: string | null;
  timestampHeader: string | null;
  /**
   * TWILIO: the URL the provider calls, without query (behind a TLS-terminating proxy the
   * request itself cannot tell it); a Twilio source without it cannot be verified.
   */
  publicUrl: string | null;
  /** HTTP Basic credentials every request must carry, when configured (any preset). */
  basicAuth: { username: string; password: string } | null;
  rateLimitPerSecond: number | null;
  /** Whether an address may post here (`allowedCidrs`); null = any address. */
  allowedAddress: ((address: string) => boolean) | null;
  /** Content dedupe window in seconds (`dedupeWindowSeconds`); null = off. */
  dedupeWindowSeconds: number | null;
  eventTypeFrom: FieldSpec | null;
  idempotencyKeyFrom: FieldSpec | null;
  /** Lower-case names of further headers to store on events (the source's `keepHeaders`). */
  keepHeaders: string[];
}

/**
 * One provider's scheme. `verify` throws an AppError (401) and runs on the raw bytes before
 * any JSON parsing (Adyen's notification items carry their signatures inside the JSON, so
 * that one parses); the field specs say where the event type and idempotency key live unless
 * the source overrides them.
 */
export interface Preset {
  requiresJson: boolean;
  /** Lower-case names of headers that carry signatures: never stored or forwarded. */
  signatureHeaders(source: IngestSource): string[];
  /**
   * Lower-case names of the provider's headers worth keeping on an event (delivery id, topic,
   * shop domain, API version, ...), besides Content-Type, User-Agent and the headers the event
   * type and idempotency key come from: headers are stored by allow-list (ingest/stored-headers.ts).
   */
  keptHeaders: readonly string[];
  verify(request: IngestRequest, source: IngestSource, nowSeconds: number): void;
  eventType: FieldSpec | { fixed: string };
  /** A missing event type is a 400 naming the field, rather than the fixed fallback. */
  eventTypeRequired: boolean;
  idempotencyKey: FieldSpec | null;
  /**
   * For presets whose default event type lives in more than one place (Shopify's two header
   * families, Slack's JSON-or-form bodies): when present and the source sets no
   * `eventTypeFrom`, it replaces reading `eventType`, which then names only the primary place.
   * `undefined` means "fall back as for a missing optional type"; a preset whose type is
   * required throws MISSING_HEADER itself, naming every place it looked.
   */
  readEventType?(request: IngestRequest): string | undefined;
  /** Likewise for the idempotency key (`webhook-id` or `svix-id`, either Shopify family). */
  readIdempotencyKey?(request: IngestRequest): string | undefined;
}

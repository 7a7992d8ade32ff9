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
  eventTypeFrom: FieldSpec | null;
  idempotencyKeyFrom: FieldSpec | null;
}

/**
 * One provider's scheme. `verify` throws an AppError (401) and runs on the raw bytes before
 * any JSON parsing; the field specs say where the event type and idempotency key live unless
 * the source overrides them.
 */
export interface Preset {
  requiresJson: boolean;
  /** Lower-case names of headers that carry signatures: never stored or forwarded. */
  signatureHeaders(source: IngestSource): string[];
  verify(request: IngestRequest, source: IngestSource, nowSeconds: number): void;
  eventType: FieldSpec | { fixed: string };
  /** A missing event type is a 400 naming the field, rather than the fixed fallback. */
  eventTypeRequired: boolean;
  idempotencyKey: FieldSpec | null;
}

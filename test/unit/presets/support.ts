import type { IncomingHttpHeaders } from 'node:http';
import type { IngestSource } from '../../../src/ingest/presets/preset.js';
import { createIngestRequest, type IngestRequest } from '../../../src/ingest/request.js';

/** A source with every setting at its default, as the ingest path sees it. */
export function source(overrides: Partial<IngestSource> = {}): IngestSource {
  return {
    id: 's', slug: 's', preset: 'HMAC', enabled: true, secrets: ['secret'], secretError: null, toleranceSeconds: null,
    maxBodyBytes: 1024 * 1024, requireIdempotencyKey: false, signatureHeader: null, signatureAlgorithm: null, signatureEncoding: null,
    signaturePrefix: null, timestampHeader: null, publicUrl: null, eventTypeFrom: null, idempotencyKeyFrom: null, ...overrides,
  };
}

export function request(headers: IncomingHttpHeaders, body: string | Buffer, query = ''): IngestRequest {
  return createIngestRequest(headers, new URLSearchParams(query), Buffer.isBuffer(body) ? body : Buffer.from(body));
}

/** `OK`, or the AppError code the call threw: one comparable value per table row. */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The body with one byte changed, for "a changed byte breaks the signature". */
export function flipLastByte(body: string): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length - 1] ^= 1;
  return bytes;
}

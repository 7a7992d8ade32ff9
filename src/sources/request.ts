import type { IncomingHttpHeaders } from 'node:http';
import { parseJsonOrUndefined } from '../lenient-json.js';

/** What a preset sees of an ingest request: the raw bytes, never a re-serialisation. */
export interface IngestRequest {
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  /** The query string exactly as received, without `?` (Twilio signs it byte for byte). */
  rawQuery: string;
  body: Buffer;
  /** Parsed lazily and once; `undefined` when the body is not valid JSON. */
  json(): unknown;
}

export function header(request: IngestRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function createIngestRequest(headers: IncomingHttpHeaders, query: URLSearchParams, body: Buffer, rawQuery = query.toString()): IngestRequest {
  let parsed: { value: unknown } | undefined;
  return {
    headers,
    query,
    rawQuery,
    body,
    json() {
      parsed ??= { value: parseJsonOrUndefined(body) };
      return parsed.value;
    },
  };
}

import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { acceptEvent, type AcceptResult } from './accept.js';
import { eventEnvelope } from './envelope.js';
import { newCorrelationId } from '../tracing/ingest-trace.js';

export const MAX_PUBLISHED_BYTES = 1024 * 1024;

/**
 * An internal event, stored and fanned out exactly like an inbound one, its body the envelope
 * of envelope.ts.
 */
export function publishEvent(pool: Pool, boss: PgBoss, input: { type: string; payload: unknown; idempotencyKey: string | null }): Promise<AcceptResult> {
  const body = eventEnvelope(input.type, input.payload);
  if (body.length > MAX_PUBLISHED_BYTES) throw new RangeError(`payload is larger than ${MAX_PUBLISHED_BYTES} bytes`);
  return acceptEvent(pool, boss, { sourceId: null, type: input.type, idempotencyKey: input.idempotencyKey, headers: {}, contentType: 'application/json', body, correlationId: newCorrelationId() });
}

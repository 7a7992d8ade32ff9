import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { acceptEvent, type AcceptResult } from './accept.js';

export const MAX_PUBLISHED_BYTES = 1024 * 1024;

/**
 * An internal event, stored and fanned out exactly like an inbound one. Its body is the
 * Standard Webhooks envelope `{"type","timestamp","data"}`, fixed at publish time so every
 * retry and replay sends the same bytes.
 */
export function publishEvent(pool: Pool, boss: PgBoss, input: { type: string; payload: unknown; idempotencyKey: string | null }): Promise<AcceptResult> {
  const body = Buffer.from(JSON.stringify({ type: input.type, timestamp: new Date().toISOString(), data: input.payload }));
  if (body.length > MAX_PUBLISHED_BYTES) throw new RangeError(`payload is larger than ${MAX_PUBLISHED_BYTES} bytes`);
  return acceptEvent(pool, boss, { sourceId: null, type: input.type, idempotencyKey: input.idempotencyKey, headers: {}, contentType: 'application/json', body });
}

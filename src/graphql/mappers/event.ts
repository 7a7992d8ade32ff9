import { date } from '../rows.js';
import type { EventType } from '../types/event.js';

/** An event row as raw SQL returns it, and its GraphQL shape. */
export interface EventRow {
  id: string;
  type: string;
  source_id: string | null;
  idempotency_key: string | null;
  received_at: string;
  content_type: string | null;
  headers: Record<string, string>;
  body: Buffer;
  cursor_time: string;
}

export const EVENT_COLUMNS = 'e.id, e.type, e.source_id, e.idempotency_key, e.received_at, e.content_type, e.headers, e.body';

export function toEventType(row: Omit<EventRow, 'cursor_time'>): EventType {
  return {
    id: row.id,
    type: row.type,
    sourceId: row.source_id,
    idempotencyKey: row.idempotency_key,
    receivedAt: date(row.received_at),
    contentType: row.content_type,
    headers: row.headers,
    rawBody: row.body,
  };
}

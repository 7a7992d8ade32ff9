import type { AttemptErrorClass } from '../../db/entities/attempt.js';
import { date } from '../rows.js';
import type { AttemptType } from '../types/attempt.js';

/** An attempt row as raw SQL returns it, with the keyset cursor's time. */
export interface AttemptRow {
  id: string;
  number: number;
  started_at: string;
  duration_ms: number;
  response_status: number | null;
  error_class: AttemptErrorClass | null;
  error_message: string | null;
  response_body_excerpt: string | null;
  request_headers: Record<string, string>;
  cursor_time: string;
}

/** The columns `toAttemptType` reads, for a query over `attempt a`. */
export const ATTEMPT_COLUMNS = 'a.id, a.number, a.started_at, a.duration_ms, a.response_status, a.error_class, a.error_message, a.response_body_excerpt, a.request_headers';

export function toAttemptType(row: AttemptRow): AttemptType {
  return {
    id: row.id,
    number: row.number,
    startedAt: date(row.started_at),
    durationMs: row.duration_ms,
    responseStatus: row.response_status,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    responseBodyExcerpt: row.response_body_excerpt,
    requestHeaders: row.request_headers,
  };
}

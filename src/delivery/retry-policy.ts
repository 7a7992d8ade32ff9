/**
 * The whole retry decision, pure: after attempt `attempt` failed, either wait and try again or
 * give up. Delay = max(jittered schedule step, Retry-After hint); jitter is ±20 % on every
 * schedule; the hint is capped at 24 h and never shortens the wait.
 */
export const DEFAULT_SCHEDULE_SECONDS: readonly number[] = [5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 86400];
export const RETRY_AFTER_CAP_MS = 24 * 3600 * 1000;
const JITTER = 0.2;

export interface RetryInput {
  /**
   * The attempt that just failed, from 1, INTERRUPTED ones before it included: a crash uses up
   * a step (counting needs no state beyond the attempt number), but never ends a delivery nor
   * delays it (the attempt after an interrupted one is sent at once; delivery/claim.ts).
   */
  attempt: number;
  /** Seconds between tries after the first; `[]` = no retries. */
  schedule: readonly number[];
  /** Parsed Retry-After hint in ms, when the answer was 429 or 503 and carried one. */
  retryAfterMs: number | null;
  /** When the delivery was created and its maximum age, if any. */
  createdAtMs: number;
  maxAgeSeconds: number | null;
  nowMs: number;
  /** A number in [0, 1). */
  random: number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'schedule exhausted' | 'max age reached' };

export function nextAttempt(input: RetryInput): RetryDecision {
  const step = input.schedule[input.attempt - 1];
  if (step === undefined) return { retry: false, reason: 'schedule exhausted' };
  const jittered = Math.round(step * 1000 * (1 - JITTER + 2 * JITTER * input.random));
  const hint = input.retryAfterMs === null ? 0 : Math.min(input.retryAfterMs, RETRY_AFTER_CAP_MS);
  const delayMs = Math.max(jittered, hint);
  if (input.maxAgeSeconds !== null && input.nowMs + delayMs > input.createdAtMs + input.maxAgeSeconds * 1000) {
    return { retry: false, reason: 'max age reached' };
  }
  return { retry: true, delayMs };
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

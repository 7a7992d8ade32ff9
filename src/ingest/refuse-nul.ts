import { AppError } from '../errors.js';

/**
 * Event types and idempotency keys may be any UTF-8 text but NUL, which PostgreSQL's `text`
 * refuses: reaching SQL, it would fail the whole group commit it shares with other requests.
 * Called after verification (DESIGN.md's order), so only a verified sender learns of it. A
 * NUL elsewhere in a body is fine: the body is stored as bytes.
 */
export function refuseNul(field: 'event type' | 'idempotency key', value: string | null, origin: string | undefined): void {
  if (value?.includes('\0')) throw new AppError('BAD_USER_INPUT', `${field}${origin ? ` (${origin})` : ''} must not contain NUL (U+0000)`);
}

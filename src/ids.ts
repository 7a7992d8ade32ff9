import { v7 } from 'uuid';

/**
 * Ids are UUIDv7: time-ordered, so new rows land at the right edge of every index and a
 * keyset on (time, id) stays stable. The event id doubles as the `webhook-id` header.
 */
export function newId(): string {
  return v7();
}

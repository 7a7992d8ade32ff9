import { v7 } from 'uuid';

/**
 * Ids are UUIDv7: time-ordered, so new rows land at the right edge of every index and a
 * keyset on (time, id) stays stable. The event id doubles as the `webhook-id` header.
 */
export function newId(): string {
  return v7();
}

/** The text form of any UUID, either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The nil UUID: sorts before every id, matches none, stands for "no source" in unique keys. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

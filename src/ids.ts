import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes for ids, drawn in blocks: one system call per 256 ids instead of one per id. */
const random = Buffer.allocUnsafe(16 * 256);
let taken = random.length;
/** uuid's own monotonic rule (its state is private once random bytes are passed in). */
const clock = { msecs: -Infinity, seq: 0 };

/**
 * Ids are UUIDv7: time-ordered, so new rows land at the right edge of every index and a
 * keyset on (time, id) stays stable. The event id doubles as the `webhook-id` header. Ids of
 * one millisecond count up from a random start, as uuid's `v7()` does.
 */
export function newId(): string {
  if (taken === random.length) {
    randomFillSync(random);
    taken = 0;
  }
  const bytes = random.subarray(taken, (taken += 16));
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((bytes[6]! & 0x7f) << 24) | (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return v7({ random: bytes, msecs: clock.msecs, seq: clock.seq });
}

/** The text form of any UUID, either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The nil UUID: sorts before every id, matches none, stands for "no source" in unique keys. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

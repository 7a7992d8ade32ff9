import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bytes for ids, drawn from the kernel 256 ids at a time: uuid's own `v7()` asks
 * `crypto.getRandomValues` for 16 bytes per id, a native call that cost ingest about 6 µs per
 * id (two ids per webhook).
 */
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;
/** uuid's v7 state, kept here since ids pass their own random bytes: monotonic within a millisecond. */
let lastMsecs = -Infinity;
let seq = 0;

function random16(): Buffer {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool.subarray(poolAt, (poolAt += 16));
}

/**
 * Ids are UUIDv7: time-ordered, so new rows land at the right edge of every index and a
 * keyset on (time, id) stays stable. The event id doubles as the `webhook-id` header. Within
 * one millisecond the 31-bit counter after the time goes up by one from a random start, as
 * uuid does it (RFC 9562, method 1), so ids of one process never go back.
 */
export function newId(): string {
  const random = random16();
  const now = Date.now();
  if (now > lastMsecs) {
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    lastMsecs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMsecs++;
  }
  return v7({ random, msecs: lastMsecs, seq });
}

/** The text form of any UUID, either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The nil UUID: sorts before every id, matches none, stands for "no source" in unique keys. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

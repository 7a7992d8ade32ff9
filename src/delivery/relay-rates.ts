import type { Pool } from 'pg';
import { KeyedLimit } from './keyed-limit.js';

/** How far ahead a request may book its turn; past it, it asks again later (see below). */
const HORIZON_MS = 1_000;
/** Shortest pause before asking again after a refusal. */
const MIN_PAUSE_MS = 5;

/**
 * Books the next turn of a relay: its requests leave at least `$2` µs apart, in PostgreSQL's
 * clock, so any one-second span holds at most `rateLimitPerSecond` of them, whichever worker
 * process sends. One statement: the upsert locks the relay's row, and a concurrent one
 * re-reads it once that commits (READ COMMITTED), so two processes never book one turn.
 * A turn is booked at most HORIZON_MS ahead: a process killed while its requests waited leaves
 * at most that much booked for nothing. Refused, the statement says when to ask again (read
 * from its snapshot, so possibly early: asking again is harmless).
 */
const BOOK_TURN = `
with booked as (
  insert into relay_rate as r (relay_id, next_at) values ($1, clock_timestamp() + $2 * interval '1 microsecond')
  on conflict (relay_id) do update set next_at = greatest(r.next_at, clock_timestamp()) + $2 * interval '1 microsecond'
    where r.next_at <= clock_timestamp() + $3 * interval '1 millisecond'
  returning next_at - $2 * interval '1 microsecond' as turn
)
select (extract(epoch from turn) * 1000000)::bigint::text as turn_us, extract(epoch from turn - clock_timestamp())::float8 * 1000 as wait_ms
  from booked
union all
select null, extract(epoch from next_at - clock_timestamp())::float8 * 1000 - $3
  from relay_rate where relay_id = $1 and not exists (select 1 from booked)`;

/**
 * Per-relay request rates (`rateLimitPerSecond`), held in PostgreSQL across all worker
 * processes: a request books the relay's next turn, at least 1/N s after the one before, and
 * waits for it (holding only a slot of its own relay). Evenly spaced turns hold over any
 * one-second span (DESIGN.md), need one row per relay and one statement per request, and never
 * poll while fewer than N requests wait. Our own because rate-limiter-flexible's PostgreSQL store
 * counts fixed windows, which let two full bursts meet at a window's edge. Relays without a
 * limit never reach PostgreSQL; in each process one request per relay books at a time, so a
 * crowd waiting for one relay asks in turn, not all at once.
 */
export class RelayRates {
  private readonly booking = new KeyedLimit(1);

  constructor(private readonly pool: Pool) {}

  /**
   * Resolves when the request may leave, with its turn (µs since the epoch, PostgreSQL's clock;
   * tests check the spacing); at once, with `undefined`, for a relay without a limit.
   */
  async wait(relayId: string, perSecond: number | null, signal: AbortSignal): Promise<number | undefined> {
    if (!perSecond) return undefined;
    // Rounded up: N turns spaced 1/N s apart, rounded down, would fit N + 1 in a second.
    const spacingUs = Math.ceil(1_000_000 / perSecond);
    const { turnUs, waitMs } = await this.booking.run(relayId, signal, async () => {
      for (;;) {
        signal.throwIfAborted();
        const { rows } = await this.pool.query<{ turn_us: string | null; wait_ms: number }>(BOOK_TURN, [relayId, spacingUs, HORIZON_MS]);
        const row = rows[0];
        if (row?.turn_us) return { turnUs: Number(row.turn_us), waitMs: row.wait_ms };
        await pause(Math.max(MIN_PAUSE_MS, Math.ceil(row?.wait_ms ?? 0)), signal);
      }
    });
    // A timer may fire a little early (it counts from the event loop's cached time): wait on
    // until the turn has really come.
    const until = performance.now() + waitMs;
    for (let left = waitMs; left > 0; left = until - performance.now()) await pause(Math.ceil(left), signal);
    return turnUs;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

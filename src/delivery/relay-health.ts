import type { PoolClient } from 'pg';

export interface HealthPolicy {
  /** Consecutive DEAD deliveries that disable a relay. */
  deadThreshold: number;
  /** Hours of failing attempts without a success that disable a relay. */
  failingHours: number;
}

export type AttemptResult = 'succeeded' | 'failed' | 'dead' | 'gone';

/**
 * A success resets the failure record of each relay of `relayIds` (a SQL set: a subquery of
 * relay ids), writing only rows that need it; for a statement that records successes among
 * other writes (the worker's outcomes). Relays reported failing or disabled are left to
 * `recordRecoveriesSql`, in the same statement: the two touch disjoint rows (one statement may
 * not update a row twice).
 */
export function recordSuccessesSql(relayIds: string): string {
  return `update relay set consecutive_dead = 0, failing_since = null, last_success_at = now()
     where id in (${relayIds}) and (failing_alerted_at is null or not enabled)
       and (consecutive_dead > 0 or failing_since is not null or last_success_at is null or last_success_at < now() - interval '1 minute')`;
}

/**
 * The success that ends a streak Hookyard reported (`relay.failing` or `relay.disabled` sent):
 * resets the relay like `recordSuccessesSql` and clears the mark, returning what the
 * `relay.recovered` event says. Acts only on marked, enabled relays, so a healthy relay's
 * success costs what it did; a concurrent success that cleared the mark first wins, once.
 */
export function recordRecoveriesSql(relayIds: string): string {
  return `update relay set consecutive_dead = 0, failing_since = null, last_success_at = now(), failing_alerted_at = null
     where id in (${relayIds}) and failing_alerted_at is not null and enabled
     returning id, name, url`;
}

/** A relay whose failing streak just reached the warning point (`relay.failing`). */
export interface FailingRelay {
  relayId: string;
  name: string;
  url: string;
  consecutiveDead: number;
  failingSince: Date;
}

export interface AttemptHealth {
  /** Set when the relay must now be disabled. */
  disableReason?: string;
  /** Set once per failing streak, when it reaches half a threshold (relay.failing). */
  failing?: FailingRelay;
}

/**
 * Records a failed attempt in its relay's failure record, on the delivery's transaction, and
 * says whether the relay must now be disabled (with the reason), or has just reached half of
 * either threshold, the early warning `relay.failing` (once per streak: the relay's mark is
 * set here, read from the row locked first, so two lanes never both send it). Successes go
 * through `recordSuccessesSql`, once per batch.
 */
export async function recordAttempt(client: PoolClient, relayId: string, result: Exclude<AttemptResult, 'succeeded'>, policy: HealthPolicy): Promise<AttemptHealth> {
  if (result === 'gone') return { disableReason: 'the receiver answered 410 Gone' };
  const { rows } = await client.query<{ consecutive_dead: number; failing_for_hours: number | null; newly_failing: boolean; name: string; url: string; failing_since: Date }>(
    `with before as (select id, failing_alerted_at from relay where id = $1 for no key update)
     update relay r set failing_since = coalesce(r.failing_since, now()),
            consecutive_dead = r.consecutive_dead + $2,
            failing_alerted_at = case when b.failing_alerted_at is null
              and (r.consecutive_dead + $2 >= $3 or now() - coalesce(r.failing_since, now()) >= $4 * interval '1 hour') then now() else b.failing_alerted_at end
     from before b where r.id = b.id
     returning r.consecutive_dead, extract(epoch from now() - r.failing_since) / 3600 as failing_for_hours,
       b.failing_alerted_at is null and r.failing_alerted_at is not null as newly_failing, r.name, r.url, r.failing_since`,
    [relayId, result === 'dead' ? 1 : 0, Math.ceil(policy.deadThreshold / 2), policy.failingHours / 2],
  );
  const row = rows[0];
  if (!row) return {};
  if (row.consecutive_dead >= policy.deadThreshold) return { disableReason: `${row.consecutive_dead} deliveries in a row ended DEAD` };
  if (row.failing_for_hours !== null && Number(row.failing_for_hours) >= policy.failingHours) {
    return { disableReason: `no successful attempt for ${policy.failingHours} hours while attempts kept failing` };
  }
  return row.newly_failing ? { failing: { relayId, name: row.name, url: row.url, consecutiveDead: row.consecutive_dead, failingSince: row.failing_since } } : {};
}

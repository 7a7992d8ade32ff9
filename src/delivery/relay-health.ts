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
 * other writes (the worker's outcomes).
 */
export function recordSuccessesSql(relayIds: string): string {
  return `update relay set consecutive_dead = 0, failing_since = null, last_success_at = now()
     where id in (${relayIds}) and (consecutive_dead > 0 or failing_since is not null or last_success_at is null or last_success_at < now() - interval '1 minute')`;
}

/**
 * Records a failed attempt in its relay's failure record, on the delivery's transaction, and
 * says whether the relay must now be disabled (with the reason). Successes go through
 * `recordSuccessesSql`, once per batch.
 */
export async function recordAttempt(client: PoolClient, relayId: string, result: Exclude<AttemptResult, 'succeeded'>, policy: HealthPolicy): Promise<string | undefined> {
  if (result === 'gone') return 'the receiver answered 410 Gone';
  const { rows } = await client.query<{ consecutive_dead: number; failing_for_hours: number | null }>(
    `update relay set failing_since = coalesce(failing_since, now()),
            consecutive_dead = consecutive_dead + $2
     where id = $1
     returning consecutive_dead, extract(epoch from now() - failing_since) / 3600 as failing_for_hours`,
    [relayId, result === 'dead' ? 1 : 0],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.consecutive_dead >= policy.deadThreshold) return `${row.consecutive_dead} deliveries in a row ended DEAD`;
  if (row.failing_for_hours !== null && Number(row.failing_for_hours) >= policy.failingHours) {
    return `no successful attempt for ${policy.failingHours} hours while attempts kept failing`;
  }
  return undefined;
}

import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { storeOperationalEvents } from '../events/operational-event.js';

export interface RejectingPolicy {
  /** Refusals within the window that make a jump; 0 = never. */
  threshold: number;
  windowMinutes: number;
}

/**
 * Of the sources in $1, those whose refusals over the last window ($3 minutes) reached $2,
 * marked noted now; `jump` when the last time they were noted is more than a window older
 * than this window (a quiet window between), the only time `source.rejecting` is sent: a flood
 * that goes on is noted once a window and reported once. A source noted within the window is
 * skipped before its refusals are summed, so a flood costs one sum per source per window.
 * Its row is locked `for no key update`: two API replicas never both report it, and events
 * still insert (their foreign key takes only a key-share lock).
 */
const NOTE_REJECTING = `
  with candidates as (
    select s.id, s.slug, s.name, s.rejecting_noted_at as noted_before from source s
    where s.id = any($1::uuid[]) and not s.builtin and (s.rejecting_noted_at is null or s.rejecting_noted_at <= now() - $3 * interval '1 minute')
    for no key update),
  counted as (
    select c.*, t.refusals, t.reasons from candidates c cross join lateral (
      select coalesce(sum(n), 0)::int8 as refusals, coalesce(jsonb_object_agg(reason, n) filter (where reason is not null), '{}') as reasons
      from (select r.reason, sum(r.count)::int8 as n from rejected_request r
            where r.source_id = c.id and r.received_at > now() - $3 * interval '1 minute' group by r.reason) by_reason) t),
  noted as (update source s set rejecting_noted_at = now() from counted c where s.id = c.id and c.refusals >= $2)
  select c.id, c.slug, c.name, c.refusals, c.reasons, c.noted_before is null or c.noted_before <= now() - 2 * $3 * interval '1 minute' as jump
  from counted c where c.refusals >= $2`;

/**
 * After the rejected-request log wrote refusals of `sourceIds` (ingest/rejected-log.ts), on the
 * same transaction: the `source.rejecting` event of each source whose refusals jumped.
 */
export async function reportRejectingSources(client: PoolClient, boss: PgBoss, sourceIds: readonly string[], policy: RejectingPolicy): Promise<void> {
  if (policy.threshold === 0 || sourceIds.length === 0) return;
  const { rows } = await client.query<{ id: string; slug: string; name: string; refusals: string; reasons: Record<string, string | number>; jump: boolean }>(
    NOTE_REJECTING, [[...new Set(sourceIds)], policy.threshold, policy.windowMinutes],
  );
  await storeOperationalEvents(client, boss, rows.filter((r) => r.jump).map((r) => ({ type: 'source.rejecting' as const, data: {
    sourceId: r.id, slug: r.slug, name: r.name, refusals: Number(r.refusals), windowMinutes: policy.windowMinutes, threshold: policy.threshold,
    reasons: Object.fromEntries(Object.entries(r.reasons).map(([reason, n]) => [reason, Number(n)])),
  } })));
}

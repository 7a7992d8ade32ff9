import type { Pool } from 'pg';
import type { AttemptErrorClass } from '../db/entities/attempt.js';
import { DELIVERY_STATUSES } from '../db/entities/delivery.js';
import { date } from './rows.js';
import type { RelayHealth } from './types/relay-health.js';

interface CountRow { relay_id: string; attempts: number; succeeded: number }
interface ErrorRow { relay_id: string; started_at: string | Date; error_class: AttemptErrorClass; response_status: number | null; error_message: string | null }

/**
 * The newest deliveries (over every status) whose last-hour attempts make the success rate; read
 * as the newest this many of each status, then the newest this many of those: what a health read
 * looks at never grows with a relay's history.
 */
const RECENT = 1000;
/** Deliveries of each status searched for the latest error. */
const ERROR_SEARCH_PER_STATUS = 50;

/** Each relay's newest deliveries created since `since` (a SQL interval), at most `perStatus` of each status, walked on (relay_id, status, created_at, id). */
const newestDeliveries = (since: string, perStatus: string) => `
  select d.id, d.created_at from unnest($2::text[]) as s(status)
  cross join lateral (
    select id, created_at from delivery
    where relay_id = r.relay_id and status = s.status and created_at > now() - ${since}
    order by created_at desc limit ${perStatus}) d`;

/**
 * The two statements of `relayHealthOf` (exported for the test that bounds what they read).
 * Health is asked for every relay the console lists, READ tokens included, so neither may walk
 * a relay's history (a busy relay keeps millions of deliveries within retention): each reads a
 * relay's newest deliveries per status through the (relay_id, status, created_at, id) index,
 * at most RECENT (ERROR_SEARCH_PER_STATUS) of each. The success rate is therefore
 * that of the last hour's attempts of the newest RECENT deliveries created in the last hour
 * (a retry of an older delivery is left out), and the latest error the newest among the failed
 * attempts of the newest deliveries of each status within retention.
 */
export function relayHealthStatements(relayIds: readonly string[], retentionHours: number): [{ text: string; values: unknown[] }, { text: string; values: unknown[] }] {
  return [
    { text: `
      select r.relay_id, count(*)::int as attempts, count(*) filter (where a.error_class is null)::int as succeeded
      from unnest($1::uuid[]) as r(relay_id)
      cross join lateral (${newestDeliveries(`interval '1 hour'`, '$3')} order by d.created_at desc limit $3) d
      join attempt a on a.delivery_id = d.id and a.started_at > now() - interval '1 hour'
      group by r.relay_id`, values: [relayIds, DELIVERY_STATUSES, RECENT] },
    { text: `
      select r.relay_id, e.started_at, e.error_class, e.response_status, e.error_message
      from unnest($1::uuid[]) as r(relay_id)
      cross join lateral (
        select a.started_at, a.error_class, a.response_status, a.error_message
        from (${newestDeliveries('make_interval(hours => $3)', '$4')}) d
        join attempt a on a.delivery_id = d.id and a.error_class is not null
        order by a.started_at desc limit 1) e`, values: [relayIds, DELIVERY_STATUSES, retentionHours, ERROR_SEARCH_PER_STATUS] },
  ];
}

/** Health of several relays in two statements (the console lists them all at once). */
export async function relayHealthOf(pool: Pool, relayIds: readonly string[], retentionHours: number): Promise<RelayHealth[]> {
  const [countSql, errorSql] = relayHealthStatements(relayIds, retentionHours);
  const [counts, errors] = await Promise.all([pool.query<CountRow>(countSql.text, countSql.values), pool.query<ErrorRow>(errorSql.text, errorSql.values)]);
  const countOf = new Map(counts.rows.map((row) => [row.relay_id, row]));
  const errorOf = new Map(errors.rows.map((row) => [row.relay_id, row]));
  return relayIds.map((id) => {
    const count = countOf.get(id);
    const error = errorOf.get(id);
    const attempts = count?.attempts ?? 0;
    const succeeded = count?.succeeded ?? 0;
    return {
      attemptsLastHour: attempts,
      succeededLastHour: succeeded,
      successRate: attempts === 0 ? null : succeeded / attempts,
      lastError: error ? { at: date(error.started_at), errorClass: error.error_class, responseStatus: error.response_status, message: error.error_message } : null,
    };
  });
}

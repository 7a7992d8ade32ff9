import type { Pool } from 'pg';
import type { AttemptErrorClass } from '../db/entities/attempt.js';
import { date } from './rows.js';
import type { RelayHealth } from './types/relay-health.js';

interface CountRow { relay_id: string; attempts: number; succeeded: number }
interface ErrorRow { relay_id: string; started_at: string | Date; error_class: AttemptErrorClass; response_status: number | null; error_message: string | null }

/**
 * Health of several relays in two statements (the console lists them all at once). Both walk
 * only deliveries attempted recently (`last_attempt_at`), never a relay's whole history: an
 * attempt of the last hour belongs to a delivery last attempted within it, and the latest error
 * is looked for within the retention window, beyond which nothing is kept anyway.
 */
export async function relayHealthOf(pool: Pool, relayIds: readonly string[], retentionHours: number): Promise<RelayHealth[]> {
  const [counts, errors] = await Promise.all([
    pool.query<CountRow>(`
      select d.relay_id, count(*)::int as attempts, count(*) filter (where a.error_class is null)::int as succeeded
      from delivery d join attempt a on a.delivery_id = d.id
      where d.relay_id = any($1::uuid[]) and d.last_attempt_at > now() - interval '1 hour' and a.started_at > now() - interval '1 hour'
      group by d.relay_id`, [relayIds]),
    pool.query<ErrorRow>(`
      select distinct on (d.relay_id) d.relay_id, a.started_at, a.error_class, a.response_status, a.error_message
      from delivery d join attempt a on a.delivery_id = d.id
      where d.relay_id = any($1::uuid[]) and d.last_attempt_at > now() - make_interval(hours => $2) and a.error_class is not null
      order by d.relay_id, a.started_at desc`, [relayIds, retentionHours]),
  ]);
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

import pg from 'pg';
import { createRelay, gql, hookyardEnv } from './lib/configure.js';
import { startHookyard } from './lib/processes.js';
import { summarize } from './lib/stats.js';
import type { Plan } from './plan.js';

/**
 * scale: the first page of `events`, and of `deliveries` filtered by relay and status, with
 * `scaleRows` rows in each table → p50 latency of the GraphQL request.
 */
export async function listAtScale(plan: Plan, databaseUrl: string): Promise<{ rows: number; events_p50_ms: number; deliveries_p50_ms: number; p50_ms: number }> {
  const hookyard = await startHookyard(hookyardEnv(databaseUrl, 'api'));
  try {
    const relays: string[] = [];
    for (let i = 0; i < 50; i++) relays.push(await createRelay(hookyard.url, `http://127.0.0.1:9/s${i}`));
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    await pool.query(
      `insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
       select gen_random_uuid(), null, 'scale.' || (g % 20), null, '{}', 'application/json', '\\x7b7d', now() - (g || ' seconds')::interval
       from generate_series(1, $1) g`,
      [plan.scaleRows],
    );
    await pool.query(
      `insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at)
       select gen_random_uuid(), e.id, ($2::uuid[])[1 + (row_number() over () % 50)],
              (array['SUCCEEDED','SUCCEEDED','SUCCEEDED','DEAD','RETRYING'])[1 + (row_number() over () % 5)], 1, e.received_at, e.received_at
       from (select id, received_at from event limit $1) e`,
      [plan.scaleRows, relays],
    );
    await pool.query('analyze event; analyze delivery');
    await pool.end();

    const time = async (query: string, variables: Record<string, unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < plan.scaleQueries; i++) {
        const t0 = performance.now();
        await gql(hookyard.url, query, variables);
        samples.push(performance.now() - t0);
      }
      return summarize(samples).p50_ms;
    };
    const events = await time('{ events(first: 20) { edges { cursor node { id type receivedAt } } pageInfo { hasNextPage endCursor } } }', {});
    const deliveries = await time(
      'query($r: ID!) { deliveries(filter: { relayId: $r, status: [DEAD] }, first: 20) { edges { cursor node { id status attemptCount } } pageInfo { hasNextPage endCursor } } }',
      { r: relays[7] },
    );
    return { rows: plan.scaleRows, events_p50_ms: events, deliveries_p50_ms: deliveries, p50_ms: Math.max(events, deliveries) };
  } finally {
    await hookyard.stop();
  }
}

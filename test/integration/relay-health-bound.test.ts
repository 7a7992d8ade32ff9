import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { relayHealthOf, relayHealthStatements } from '../../src/graphql/relay-health-read.js';
import { CreateRelayDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';

/**
 * Relay.health is asked for every relay the console lists, by READ tokens too: what it reads
 * must not grow with a relay's history. A relay with 20,000 deliveries from three hours ago
 * (each with a failed attempt, all within retention) and three from now: the answer comes from
 * the three, and the statements touch a bounded number of rows, not the 20,000.
 */
const HISTORY = 20_000;
/** Rows the statements may touch (returned or filtered out, over every node and loop). */
const BOUND = 2_000;

let app: App;
let db: pg.Pool;
let relayId: string;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  db = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
  const created = await execute(app.url, CreateRelayDocument, { input: { name: 'busy', url: 'http://127.0.0.1:9/hook' } }, TEST_ADMIN_TOKEN);
  relayId = created.data!.createRelay.relay.id;
  const seed = (count: number, status: string, ago: string, errorClass: string | null, responseStatus: number | null) => db.query(
    `with e as (
       insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
       select gen_random_uuid(), null, 'history', null, '{}', 'application/json', '\\x7b7d', now() - $3::interval from generate_series(1, $1)
       returning id),
     d as (
       insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at, last_attempt_at)
       select gen_random_uuid(), e.id, $2, $4, 1, now() - $3::interval, now() - $3::interval, now() - $3::interval from e
       returning id)
     insert into attempt (id, delivery_id, number, started_at, duration_ms, request_headers, response_status, error_class, error_message)
     select gen_random_uuid(), d.id, 1, now() - $3::interval, 5, '{}', $6, $5, case when $5::text is null then null else 'receiver said no' end from d`,
    [count, relayId, ago, status, errorClass, responseStatus],
  );
  await seed(HISTORY, 'DEAD', '3 hours', 'TIMEOUT', null);
  await seed(2, 'SUCCEEDED', '1 minute', null, 200);
  await seed(1, 'DEAD', '30 seconds', 'HTTP_STATUS', 503);
  await db.query('analyze delivery; analyze attempt');
}, 60_000);

afterAll(async () => {
  await db?.end();
});

/** Rows a plan touched: each node's rows returned and removed by its filters, times its loops. */
function rowsTouched(node: Record<string, unknown>): number {
  const loops = Number(node['Actual Loops'] ?? 1);
  const own = (Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  const children = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
  return own + children.reduce((sum, child) => sum + rowsTouched(child), 0);
}

describe('Relay.health on a relay with a long history', () => {
  it('answers from the last hour and the latest error', async () => {
    const [health] = await relayHealthOf(db, [relayId], 72);
    expect(health).toMatchObject({ attemptsLastHour: 3, succeededLastHour: 2, lastError: { errorClass: 'HTTP_STATUS', responseStatus: 503 } });
  });

  it('touches a bounded number of rows, not the relay\'s history', async () => {
    for (const statement of relayHealthStatements([relayId], 72)) {
      const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`explain (analyze, format json) ${statement.text}`, statement.values);
      const touched = rowsTouched(rows[0]!['QUERY PLAN'][0].Plan);
      expect(touched, statement.text.trim().slice(0, 60)).toBeLessThan(BOUND);
    }
  });
});

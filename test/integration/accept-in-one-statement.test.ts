import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createIngestPool } from '../../src/db/pools.js';
import { withClient } from '../../src/db/transaction.js';
import { AcceptBatcher } from '../../src/events/accept-batcher.js';
import type { AcceptResult, NewEvent } from '../../src/events/accept.js';
import { createLogger } from '../../src/log.js';
import {
  CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeleteSubscriptionDocument, DisableRelayDocument, UpdateRelayDocument, UpdateSubscriptionDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';

let app: App;
let databaseUrl: string;
let ingestPool: pg.Pool;
let batcher: AcceptBatcher;
const sources: Record<string, string> = {};
const relays: Record<string, string> = {};

const ONE_STATEMENT = 'hookyard_accept_in_one_statement_0';

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  // Workers off: the deliveries stay as the batch wrote them.
  app = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  for (const slug of ['alpha', 'beta']) {
    const created = await execute(app.url, CreateSourceDocument, { input: { name: slug, slug, preset: 'GITHUB', secret: 's' } }, TEST_ADMIN_TOKEN);
    sources[slug] = created.data!.createSource.id;
  }
  for (const name of ['everything', 'betaOnly', 'later']) {
    const created = await execute(app.url, CreateRelayDocument, { input: { name, url: 'http://127.0.0.1:9/never', maxConcurrency: 7 } }, TEST_ADMIN_TOKEN);
    relays[name] = created.data!.createRelay.relay.id;
  }
  await subscribe('everything', { eventTypes: ['*'] });
  await subscribe('betaOnly', { eventTypes: ['*'], sourceIds: [sources.beta!] });
  ingestPool = createIngestPool(databaseUrl, createLogger('silent'));
  batcher = new AcceptBatcher(ingestPool, app.boss, { maxQueue: 100, timeoutMs: 4500 });
});

afterAll(async () => {
  await ingestPool?.end();
  await app?.stop();
});

async function subscribe(relay: string, input: { eventTypes: string[]; sourceIds?: string[] }): Promise<string> {
  const created = await execute(app.url, CreateSubscriptionDocument, { input: { relayId: relays[relay]!, ...input } }, TEST_ADMIN_TOKEN);
  return created.data!.createSubscription.id;
}

let n = 0;
const event = (source: string, key: string | null = `k-${++n}`, type = 'push'): NewEvent => ({
  sourceId: sources[source]!, type, idempotencyKey: key, headers: { 'x-n': String(n) }, contentType: 'application/json', body: Buffer.from(`{"n":${n}}`),
});

/** Whether the ingest connection has run the one-statement batch (a named statement stays prepared on it). */
async function ranOneStatement(): Promise<boolean> {
  return withClient(ingestPool, async (client) => (await client.query('select 1 from pg_prepared_statements where name = $1', [ONE_STATEMENT])).rowCount === 1);
}

/** The relays each new event of `results` went to, with each delivery's status and whether it has a job, as stored. */
async function stored(results: AcceptResult[]): Promise<{ relayId: string; status: string; jobs: number; tier: string | null }[][]> {
  return Promise.all(results.map(async (r) => {
    if (r.duplicate) return [];
    const { rows } = await app.pool.query<{ relay_id: string; status: string; jobs: number; tier: string | null }>(
      `select d.relay_id, d.status, (select count(*)::int from pgboss.job j where j.data->>'deliveryId' = d.id::text) as jobs,
              (select j.group_tier from pgboss.job j where j.data->>'deliveryId' = d.id::text limit 1) as tier
       from delivery d where d.event_id = $1 order by d.relay_id`, [r.id]);
    return rows.map((row) => ({ relayId: row.relay_id, status: row.status, jobs: row.jobs, tier: row.tier }));
  }));
}

describe('a batch in one statement', () => {
  it('writes a batch whose sources are known in one statement: events, deliveries with their jobs, repeated keys answered with the first id', async () => {
    // The first batch reads the candidates (and caches them), the second is written in one statement.
    await batcher.accept([event('alpha'), event('beta')]);
    expect(await ranOneStatement()).toBe(false);
    const [[a], [b], [again], [b2]] = await Promise.all([
      batcher.accept([event('alpha', 'repeat')]), batcher.accept([event('beta')]), batcher.accept([event('alpha', 'repeat')]), batcher.accept([event('beta', null, 'issues')]),
    ]);
    expect(await ranOneStatement()).toBe(true);
    expect(again).toEqual({ id: a!.id, duplicate: true });
    const [forA, forB, , forB2] = await stored([a!, b!, again!, b2!]);
    expect(forA).toEqual([{ relayId: relays.everything, status: 'PENDING', jobs: 1, tier: '7' }]);
    expect(forB).toEqual([relays.everything, relays.betaOnly].sort().map((relayId) => ({ relayId, status: 'PENDING', jobs: 1, tier: '7' })));
    expect(forB2).toHaveLength(2);
    // Only the first of the repeated key was stored, with one delivery.
    const { rows } = await app.pool.query<{ n: number }>(`select count(*)::int as n from event e join delivery d on d.event_id = e.id where e.idempotency_key = 'repeat'`);
    expect(rows[0]!.n).toBe(1);
    // A repeat of a key stored by an earlier batch, alone in its batch: nothing new, the first id.
    const [[later]] = await Promise.all([batcher.accept([event('alpha', 'repeat')])]);
    expect(later).toEqual({ id: a!.id, duplicate: true });
  });

  it('routes by what the subscriptions and relays say now, not by what it cached', async () => {
    await batcher.accept([event('alpha')]);
    // A new rule: the cached candidates of alpha no longer hold.
    const rule = await subscribe('later', { eventTypes: ['push'], sourceIds: [sources.alpha!] });
    const [[withRule]] = await Promise.all([batcher.accept([event('alpha')])]);
    expect((await stored([withRule!]))[0]!.map((d) => d.relayId)).toEqual([relays.everything, relays.later].sort());

    // The rule narrowed: an issues event no longer matches it.
    await execute(app.url, UpdateSubscriptionDocument, { id: rule, input: { eventTypes: ['release'] } }, TEST_ADMIN_TOKEN);
    const [[narrowed]] = await Promise.all([batcher.accept([event('alpha')])]);
    expect((await stored([narrowed!]))[0]!.map((d) => d.relayId)).toEqual([relays.everything]);

    // Its relay's concurrency and state: the job's tier, then HELD without a job.
    await execute(app.url, UpdateSubscriptionDocument, { id: rule, input: { eventTypes: ['*'] } }, TEST_ADMIN_TOKEN);
    await execute(app.url, UpdateRelayDocument, { id: relays.later!, input: { maxConcurrency: 3 } }, TEST_ADMIN_TOKEN);
    const [[tiered]] = await Promise.all([batcher.accept([event('alpha')])]);
    expect((await stored([tiered!]))[0]!.find((d) => d.relayId === relays.later)).toEqual({ relayId: relays.later, status: 'PENDING', jobs: 1, tier: '3' });
    await execute(app.url, DisableRelayDocument, { id: relays.later!, reason: 'maintenance' }, TEST_ADMIN_TOKEN);
    const [[held]] = await Promise.all([batcher.accept([event('alpha')])]);
    expect((await stored([held!]))[0]!.find((d) => d.relayId === relays.later)).toEqual({ relayId: relays.later, status: 'HELD', jobs: 0, tier: null });

    // The rule deleted: nothing more for that relay.
    await execute(app.url, DeleteSubscriptionDocument, { id: rule }, TEST_ADMIN_TOKEN);
    const [[gone]] = await Promise.all([batcher.accept([event('alpha')])]);
    expect((await stored([gone!]))[0]!.map((d) => d.relayId)).toEqual([relays.everything]);
  });

  it('bounds the statement by the batch deadline: a database that cannot store it in time stores nothing', async () => {
    const quick = new AcceptBatcher(ingestPool, app.boss, { maxQueue: 100, timeoutMs: 1000 });
    await quick.accept([event('alpha')]);
    await quick.accept([event('alpha')]);
    // The session's bound (in ms), left by the one-statement batch: within the batch's 1 s.
    const timeout = await withClient(ingestPool, async (client) => Number((await client.query<{ setting: string }>(`select setting from pg_settings where name = 'statement_timeout'`)).rows[0]!.setting));
    expect(timeout).toBeGreaterThan(0);
    expect(timeout).toBeLessThanOrEqual(1000);

    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    const key = `locked-${crypto.randomUUID()}`;
    try {
      await locker.query('begin');
      await locker.query('lock table event in access exclusive mode');
      const started = Date.now();
      await expect(quick.accept([event('alpha', key)])).rejects.toMatchObject({ code: 'INGEST_BUSY' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    const { rows } = await app.pool.query<{ n: number }>('select count(*)::int as n from event where idempotency_key = $1', [key]);
    expect(rows[0]!.n).toBe(0);
    expect(await ranOneStatement()).toBe(true);
  });
});

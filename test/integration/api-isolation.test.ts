import { sign } from '@octokit/webhooks-methods';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { postGraphQL, type RawGraphQLResult } from '../helpers/graphql.js';

/**
 * GraphQL reads run on connections of their own: however many clients hammer the API, and
 * however slow their statements get, ingest and the workers keep the connections they need.
 */
let app: App;
let databaseUrl: string;
let deliveryId: string;

const HEAVY_EVENTS = `query($after: String) { events(first: 100, after: $after) {
  edges { cursor node { id type idempotencyKey receivedAt headers body payload source { slug } } } pageInfo { hasNextPage endCursor } } }`;
const HEAVY_STATS = `{ stats(since: "1970-01-01T00:00:00Z") { events rejectedRequests deliveries { status count } } }`;
const ATTEMPTS = `query($id: ID!) { attempts(deliveryId: $id, first: 100) { edges { node { id number responseStatus responseBodyExcerpt } } } }`;

async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: { data?: unknown; errors?: RawGraphQLResult['errors'] } }> {
  // No answer within 30 s: a hang, reported as status 0.
  const result = await postGraphQL(app.url, query, variables, TEST_ADMIN_TOKEN, AbortSignal.timeout(30_000)).catch(() => undefined);
  return result ? { status: result.status, body: result } : { status: 0, body: {} };
}

let ingestCount = 0;
async function ingest(): Promise<number> {
  const body = JSON.stringify({ n: ingestCount, pad: 'x'.repeat(900) });
  const response = await fetch(`${app.url}/ingest/gh`, {
    method: 'POST',
    headers: { 'x-github-event': 'push', 'x-github-delivery': `load-${ingestCount++}`, 'x-hub-signature-256': await sign('s', body), 'content-type': 'application/json' },
    body,
    // Generous: a healthy ingest answers in milliseconds; one queued behind API reads waits seconds.
    signal: AbortSignal.timeout(15_000),
  }).catch(() => undefined);
  return response?.status ?? 0;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'all', HOOKYARD_DB_POOL_SIZE: '6', HOOKYARD_API_DB_CONNECTIONS: '2', HOOKYARD_API_STATEMENT_TIMEOUT_MS: '1500',
    // The clients below really run their queries: the per-token rate limit has its own test.
    HOOKYARD_API_RATE_LIMIT_PER_SECOND: '0' });
  const fx = fixtures(app.orm, app.keyring);
  const source = await fx.source({ slug: 'gh', preset: 'GITHUB', secret: 's' });
  // 10,000 events of about 1 KiB, and one delivery with attempts to read.
  await app.pool.query(
    `insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
     select gen_random_uuid(), $1, 'push', 'seed-' || i, '{"x-github-event":"push"}', 'application/json',
            convert_to('{"n":' || i || ',"pad":"' || repeat('y', 1000) || '"}', 'UTF8'), now() - (i || ' seconds')::interval
     from generate_series(1, 10000) i`,
    [source.id],
  );
  const { relay } = await fx.relay({ url: 'http://127.0.0.1:9/never', enabled: false, disabledReason: 'test' });
  const { rows } = await app.pool.query<{ id: string }>(
    `insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at)
     select gen_random_uuid(), id, $1, 'DEAD', 1, now(), now() from event limit 1 returning id`,
    [relay.id],
  );
  deliveryId = rows[0]!.id;
});

afterAll(async () => {
  await app?.stop();
});

describe('API reads cannot starve ingest', () => {
  it('accepts every signed webhook while 20 clients run the most expensive queries', async () => {
    let stop = false;
    const apiErrors: string[] = [];
    let answered = 0;
    const client = async (n: number) => {
      let after: string | null = null;
      while (!stop) {
        const { body }: Awaited<ReturnType<typeof graphql>> = n % 4 === 0 ? await graphql(HEAVY_STATS) : await graphql(HEAVY_EVENTS, { after });
        if (body.errors) apiErrors.push(body.errors[0]!.extensions?.code ?? 'none');
        else answered += 1;
        const page: { pageInfo: { endCursor: string | null; hasNextPage: boolean } } | undefined = (body.data as { events?: { pageInfo: { endCursor: string | null; hasNextPage: boolean } } } | undefined)?.events;
        after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      }
    };
    const clients = Array.from({ length: 20 }, (_, n) => client(n));
    const statuses: number[] = [];
    try {
      for (let round = 0; round < 20; round++) statuses.push(...(await Promise.all([ingest(), ingest(), ingest()])));
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The API was really busy (and answered, or refused with a clear code, never a 500).
    expect(answered).toBeGreaterThan(20);
    expect(apiErrors.every((code) => ['QUERY_TIMEOUT', 'SERVICE_UNAVAILABLE'].includes(code))).toBe(true);
  });

  it('keeps ingest answering while every API connection is stuck on a slow statement', async () => {
    // A statement that cannot finish (here: a table lock held elsewhere) holds its connection,
    // as a slow scan would. Ingest never touches the attempt table.
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table attempt in access exclusive mode');
    let stuck: Promise<unknown>[] = [];
    try {
      stuck = Array.from({ length: 10 }, () => graphql(ATTEMPTS, { id: deliveryId }));
      const statuses: number[] = [];
      for (let round = 0; round < 10; round++) statuses.push(...(await Promise.all([ingest(), ingest()])));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // The stuck reads end with a clear error (statement timeout) or an answer, never a hang or a 500.
    const results = (await Promise.all(stuck)) as Awaited<ReturnType<typeof graphql>>[];
    for (const { status, body } of results) {
      expect([200, 503]).toContain(status);
      for (const error of body.errors ?? []) expect(['QUERY_TIMEOUT', 'SERVICE_UNAVAILABLE']).toContain(error.extensions?.code);
    }
  });

  it('ends an API statement that runs past the timeout with QUERY_TIMEOUT', async () => {
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table attempt in access exclusive mode');
    try {
      const { status, body } = await graphql(ATTEMPTS, { id: deliveryId });
      expect(status).toBe(200);
      expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TIMEOUT');
      expect(body.errors?.[0]?.message).toMatch(/took longer than 1500 ms/);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });
});

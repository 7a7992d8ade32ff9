import { parse } from 'graphql';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateApiTokenDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { countStatements } from '../helpers/sql-count.js';
import { subscribe } from '../helpers/ws.js';

let databaseUrl: string;
let app: App;
let statements: ReturnType<typeof countStatements>;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
});

afterEach(() => statements?.restore());

/** POSTs as the configured admin token: authenticating it runs no SQL, so every statement counted is the operation's. */
async function post(query: string, variables?: Record<string, unknown>, target: App = app, authorization = `Bearer ${TEST_ADMIN_TOKEN}`) {
  const response = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] } };
}

const repeat = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join(' ');
const PAGE_OF_BODIES = 'events(first: 100) { edges { node { id body payload headers } } }';

describe('each limit refuses before any SQL runs, with its own code', () => {
  it.each([
    ['ALIAS_LIMIT', `{ ${repeat(25, (i) => `a${i}: ${PAGE_OF_BODIES}`)} }`, undefined],
    ['ALIAS_LIMIT', `{ ${repeat(25, (i) => `s${i}: stats(since: "1970-01-01T00:00:00Z") { events }`)} }`, undefined],
    ['TOKEN_LIMIT', `{ ${repeat(300, (i) => `a${i}: ${PAGE_OF_BODIES}`)} }`, undefined],
    ['TOKEN_LIMIT', `{ events { edges { node { ${repeat(2100, () => 'id')} } } } }`, undefined],
    ['DEPTH_LIMIT', '{ events { edges { node { id } } } __type(name: "Delivery") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }', undefined],
    ['DIRECTIVE_LIMIT', `{ events { edges { node { ${repeat(60, () => 'id @include(if: true)')} } } } }`, undefined],
    ['COST_LIMIT', '{ deliveries(first: 100) { edges { node { attempts(first: 100) { edges { node { requestHeaders responseBodyExcerpt } } } } } } }', undefined],
    ['COST_LIMIT', `{ ${repeat(10, (i) => `a${i}: ${PAGE_OF_BODIES}`)} }`, undefined],
    // The cost follows variables, whatever Apollo cached of the document.
    ['COST_LIMIT', 'query Page($n: Int) { deliveries(first: $n) { edges { node { attempts(first: $n) { edges { node { requestHeaders responseBodyExcerpt } } } } } } }', { n: 100 }],
  ] as const)('%s: %#', async (code, query, variables) => {
    statements = countStatements(app);
    const { status, text, body } = await post(query, variables);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors![0]!.message).toMatch(/limit/i);
    expect(text).not.toMatch(/stacktrace|\bat .*\.js:\d+/);
    expect(statements.count).toBe(0);
  });

  it('a normal console page of 100 deliveries with attempts and event bodies is allowed (and does reach SQL)', async () => {
    statements = countStatements(app);
    const { status, body } = await post(`{
      deliveries(first: 100) {
        edges { cursor node {
          id status attemptCount nextAttemptAt lastAttemptAt createdAt updatedAt
          relay { id name url enabled }
          attempts { edges { node { id number startedAt durationMs responseStatus errorClass errorMessage requestHeaders responseBodyExcerpt } } }
          event { id type receivedAt contentType idempotencyKey body payload headers source { id slug } }
        } }
        pageInfo { hasNextPage endCursor }
      }
      stats { events rejectedRequests deliveries { status count } }
    }`);
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(statements.count).toBeGreaterThan(0);
  });

  it('the same page with variables, as the cached document, is still allowed', async () => {
    const { status, body } = await post('query Page($n: Int) { deliveries(first: $n) { edges { node { attempts(first: $n) { edges { node { requestHeaders responseBodyExcerpt } } } } } } }', { n: 20 });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
  });
});

describe('websockets apply the same limits', () => {
  it.each([
    ['ALIAS_LIMIT', `subscription { deliveryUpdated { ${repeat(25, (i) => `a${i}: id`)} } }`],
    ['TOKEN_LIMIT', `subscription { deliveryUpdated { ${repeat(2100, () => 'id')} } }`],
  ])('%s', async (code, query) => {
    statements = countStatements(app);
    const live = subscribe(app.url, parse(query), {}, `Bearer ${TEST_ADMIN_TOKEN}`);
    await live.connected;
    const deadline = Date.now() + 10_000;
    while (live.errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const errors = live.errors[0] as { extensions?: { code?: string } }[];
    expect(errors.map((e) => e.extensions?.code)).toEqual([code]);
    expect(statements.count).toBe(0);
    await live.dispose();
  });
});

describe('stats', () => {
  it('counts from the start of the retention window at the earliest', async () => {
    const { body } = await post('{ stats(since: "1970-01-01T00:00:00Z") { since events } }');
    const since = Date.parse((body.data!.stats as { since: string }).since);
    // HOOKYARD_RETENTION_HOURS defaults to 72.
    expect(Math.abs(since - (Date.now() - 72 * 3600_000))).toBeLessThan(10 * 60_000);
  });
});

describe('per-token rate limit', () => {
  it('answers 429 with Retry-After and RATE_LIMITED past the rate, per token', async () => {
    const limited = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api', HOOKYARD_API_RATE_LIMIT_PER_SECOND: '2', HOOKYARD_API_RATE_LIMIT_BURST: '0' });
    const created = await execute(app.url, CreateApiTokenDocument, { input: { name: 'busy reader', scope: 'READ' } }, TEST_ADMIN_TOKEN);
    const busy = `Bearer ${created.data!.createApiToken.token}`;
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await post('{ relays { id } }', undefined, limited, busy));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.body.errors![0]!.extensions?.code).toBe('RATE_LIMITED');
    expect(refused[0]!.body.data).toBeUndefined();
    // Another token (here the configured admin token) has its own budget.
    expect((await post('{ relays { id } }', undefined, limited)).status).toBe(200);
  });

  it('is generous by default: a console burst of 60 requests passes', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, () => post('{ relays { id } }')));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
  });
});

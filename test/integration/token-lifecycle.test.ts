import { parse } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

/** Re-checks only after a reconnect (the interval is an hour): what closes a socket here is the reconnect. */
let app: App;
let db: pg.Client;
/** Re-checks every second and refuses an address after 5 failed authentications. */
let strict: App;
let strictDb: pg.Client;

beforeAll(async () => {
  const [url, strictUrl] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  [app, strict] = await Promise.all([
    startTestApp(url, { HOOKYARD_ROLE: 'api', HOOKYARD_WS_TOKEN_RECHECK_SECONDS: '3600' }),
    startTestApp(strictUrl, { HOOKYARD_ROLE: 'api', HOOKYARD_WS_TOKEN_RECHECK_SECONDS: '1', HOOKYARD_AUTH_FAILURES_PER_ADDRESS: '5', HOOKYARD_AUTH_FAILURE_WINDOW_SECONDS: '60' }),
  ]);
  db = new pg.Client({ connectionString: url });
  strictDb = new pg.Client({ connectionString: strictUrl });
  await Promise.all([db.connect(), strictDb.connect()]);
});

afterAll(async () => {
  await Promise.all([db?.end(), strictDb?.end()]);
});

interface Body {
  data?: Record<string, any>;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

async function post(target: App, query: string, variables: unknown, token: string | undefined): Promise<{ status: number; headers: Headers; body: Body }> {
  const response = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

const CREATE = 'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id expiresAt lastUsedAt } token } }';
const LIVE = parse('subscription { deliveryUpdated { id } }');

async function newToken(target: App, name: string, expiresAt?: string): Promise<{ id: string; token: string; expiresAt: string | null }> {
  const query = expiresAt ? CREATE : 'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } token } }';
  const { body } = await post(target, query, { input: { name, scope: 'READ', ...(expiresAt ? { expiresAt } : {}) } }, TEST_ADMIN_TOKEN);
  expect(body.errors).toBeUndefined();
  return { ...body.data!.createApiToken.apiToken, token: body.data!.createApiToken.token };
}

/** The closing code, or a failure naming what was awaited. */
function closedWithin(closed: Promise<number>, ms: number, what: string): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    closed.finally(() => clearTimeout(timer)),
    new Promise<number>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

describe('open sockets are re-checked', () => {
  it('after the LISTEN connection reconnects: a token revoked meanwhile closes its socket with 4403', async () => {
    const read = await newToken(app, 'revoked during reconnect');
    const live = subscribe(app.url, LIVE, {}, `Bearer ${read.token}`);
    await live.connected;
    await waitUntil(() => (app.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription');
    // The revocation's NOTIFY is lost while the LISTEN connection is down: here it is never sent.
    await db.query('update api_token set revoked_at = now() where id = $1', [read.id]);
    const killed = await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'hookyard-notify-bus' and datname = current_database()`);
    expect(killed.rowCount).toBeGreaterThan(0);
    expect(await closedWithin(live.closed, 20_000, 'the socket to close after the reconnect')).toBe(4403);
    await live.dispose();
  });

  it('at every interval: a token that expired closes its socket with 4403', async () => {
    const read = await newToken(strict, 'expires while connected', new Date(Date.now() + 3_600_000).toISOString());
    const live = subscribe(strict.url, LIVE, {}, `Bearer ${read.token}`);
    await live.connected;
    await waitUntil(() => (strict.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription');
    await strictDb.query(`update api_token set expires_at = now() - interval '1 second' where id = $1`, [read.id]);
    expect(await closedWithin(live.closed, 10_000, 'the periodic re-check')).toBe(4403);
    await live.dispose();
  });
});

describe('token expiry', () => {
  it('must lie in the future', async () => {
    for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), new Date().toISOString()]) {
      const { body } = await post(app, CREATE, { input: { name: 'past', scope: 'READ', expiresAt } }, TEST_ADMIN_TOKEN);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresAt' });
    }
  });

  it('is shown, and an expired token authenticates as unknown over HTTP (401) and websockets (4401)', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const read = await newToken(app, 'short-lived', expiresAt);
    expect(read.expiresAt).toBe(expiresAt);
    expect((await post(app, '{ sources { id } }', {}, read.token)).status).toBe(200);
    const listed = await post(app, '{ apiTokens { id expiresAt } }', {}, TEST_ADMIN_TOKEN);
    expect(listed.body.data!.apiTokens).toContainEqual({ id: read.id, expiresAt });

    await db.query(`update api_token set expires_at = now() - interval '1 second' where id = $1`, [read.id]);
    const refused = await post(app, '{ sources { id } }', {}, read.token);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const live = subscribe(app.url, LIVE, {}, `Bearer ${read.token}`);
    expect(await live.closed).toBe(4401);
    await live.dispose();
  });
});

describe('lastUsedAt', () => {
  const lastUsed = async (id: string): Promise<string | null> => {
    const { body } = await post(app, '{ apiTokens { id lastUsedAt } }', {}, TEST_ADMIN_TOKEN);
    return (body.data!.apiTokens as { id: string; lastUsedAt: string | null }[]).find((t) => t.id === id)!.lastUsedAt;
  };

  it('is written on use over HTTP, at most once a minute per token', async () => {
    const read = await newToken(app, 'http user');
    expect(await lastUsed(read.id)).toBeNull();
    const query = vi.spyOn(app.apiPool, 'query');
    try {
      expect((await post(app, '{ sources { id } }', {}, read.token)).status).toBe(200);
      const first = await waitUntil(async () => (await lastUsed(read.id)) ?? undefined, 10_000, 'lastUsedAt');
      for (let i = 0; i < 3; i++) expect((await post(app, '{ sources { id } }', {}, read.token)).status).toBe(200);
      expect(await lastUsed(read.id)).toBe(first);
      const writes = query.mock.calls.filter(([sql, values]) => typeof sql === 'string' && /update api_token set last_used_at/i.test(sql) && JSON.stringify(values).includes(read.id));
      expect(writes).toHaveLength(1);
    } finally {
      query.mockRestore();
    }
  });

  it('is written on use over websockets', async () => {
    const read = await newToken(app, 'ws user');
    const live = subscribe(app.url, LIVE, {}, `Bearer ${read.token}`);
    await live.connected;
    await waitUntil(async () => (await lastUsed(read.id)) ?? undefined, 10_000, 'lastUsedAt');
    await live.dispose();
  });
});

// Last in the file: once throttled, every request from 127.0.0.1 to `strict` is refused.
describe('failed authentication is throttled per address', () => {
  it('refuses the address after 5 failures, with 429 and Retry-After over HTTP, 4429 over websockets, without a look-up', async () => {
    for (let i = 0; i < 5; i++) {
      const { status, body } = await post(strict, '{ sources { id } }', {}, `hky_wrong${i}`);
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const query = vi.spyOn(strict.apiPool, 'query');
    try {
      for (const token of ['hky_wrong5', TEST_ADMIN_TOKEN]) {
        const { status, headers, body } = await post(strict, '{ sources { id } }', {}, token);
        expect(status).toBe(429);
        expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
        expect(body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
        expect(body.data).toBeUndefined();
      }
      const live = subscribe(strict.url, LIVE, {}, 'Bearer hky_wrong6');
      expect(await live.closed).toBe(4429);
      await live.dispose();
      expect(query.mock.calls.filter(([sql]) => typeof sql === 'string' && /api_token/.test(sql))).toEqual([]);
    } finally {
      query.mockRestore();
    }
  });
});

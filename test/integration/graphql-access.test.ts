import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';

/** The query of the issue: every stored body and every relay, read without a token. */
const ATTACK = '{ events(first: 100) { edges { node { body } } } relays { url } }';
const ACCEPTS = ['text/html', 'application/json, text/html', 'text/html;q=0.1, application/json', '*/*'];
/** In every stored body: a response that contains it has leaked data. */
const MARKER = `secret-${randomBytes(6).toString('hex')}`;

const apps: Record<'development' | 'production', App> = {} as never;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  apps.development = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api', NODE_ENV: 'development' });
  apps.production = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api', NODE_ENV: 'production' });
  const published = await execute(apps.development.url, PublishEventDocument, { type: 'card.charged', payload: { card: MARKER } }, TEST_ADMIN_TOKEN);
  expect(published.errors).toBeUndefined();
});

async function send(app: App, method: 'GET' | 'POST', accept: string, headers: Record<string, string> = {}) {
  const url = new URL('/graphql', app.url);
  if (method === 'GET') url.searchParams.set('query', ATTACK);
  const response = await fetch(url, {
    method,
    // apollo-require-preflight: what an attacker adds to get past Apollo's CSRF check.
    headers: { accept, 'apollo-require-preflight': '1', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...headers },
    body: method === 'POST' ? JSON.stringify({ query: ATTACK }) : undefined,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe.each(['development', 'production'] as const)('no token, %s', (env) => {
  it.each(ACCEPTS.flatMap((accept) => (['GET', 'POST'] as const).map((method) => [method, accept] as const)))(
    '%s with Accept "%s" gets 401 and no data',
    async (method, accept) => {
      const { status, text } = await send(apps[env], method, accept);
      expect(text).not.toContain(MARKER);
      expect(status).toBe(401);
      const body = JSON.parse(text) as { data?: unknown; errors: { extensions: { code: string } }[] };
      expect(body.data).toBeUndefined();
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    },
  );

  it('the same query with a token does return the data (the marker is a real probe)', async () => {
    const { status, text } = await send(apps[env], 'POST', 'application/json', { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(status).toBe(200);
    expect(text).toContain(MARKER);
  });
});

describe('landing page', () => {
  it('is HTML for a browser GET without a query, in development, and runs nothing', async () => {
    const response = await fetch(`${apps.development.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).not.toContain(MARKER);
  });

  it('is off in production: a browser GET without a token is a 401', async () => {
    const response = await fetch(`${apps.production.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('is never served to a client that prefers JSON', async () => {
    const response = await fetch(`${apps.development.url}/graphql`, { headers: { accept: 'text/html;q=0.1, application/json' } });
    expect(response.status).toBe(401);
  });
});

describe('production', () => {
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const post = (app: App, query: string) =>
    fetch(`${app.url}/graphql`, { method: 'POST', headers: admin, body: JSON.stringify({ query }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: unknown; errors?: { message: string; extensions: { code: string } }[] } }));

  it('refuses introspection, even to an admin', async () => {
    const { body } = await post(apps.production, '{ __schema { types { name } } }');
    expect(body.data).toBeUndefined();
    expect(body.errors![0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await post(apps.development, '{ __schema { types { name } } }')).body.data).toBeDefined();
  });

  it('gives no "did you mean" hints', async () => {
    const prod = await post(apps.production, '{ event { bod } }');
    expect(prod.body.errors!.map((e) => e.message).join(' ')).not.toMatch(/did you mean/i);
    const dev = await post(apps.development, '{ events { edges { node { bod } } } }');
    expect(dev.body.errors!.map((e) => e.message).join(' ')).toMatch(/did you mean/i);
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control-Allow-Origin, even for a preflight', async () => {
    const preflight = await fetch(`${apps.development.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await send(apps.development, 'POST', 'application/json', { origin: 'https://evil.example', authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers listed origins only, when HOOKYARD_CORS_ORIGINS lists them', async () => {
    const app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api', HOOKYARD_CORS_ORIGINS: 'https://console.example,https://ops.example' });
    const preflight = (origin: string) => fetch(`${app.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    const listed = await preflight('https://console.example');
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://console.example');
    expect(listed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(listed.headers.get('vary')).toMatch(/origin/i);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const request = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'https://ops.example', authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ relays { id } }' }),
    });
    expect(request.status).toBe(200);
    expect(request.headers.get('access-control-allow-origin')).toBe('https://ops.example');
    expect(request.headers.get('vary')).toMatch(/origin/i);
  });
});

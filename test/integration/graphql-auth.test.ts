import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateApiTokenDocument, DeliveryUpdatedDocument, RevokeApiTokenDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { operations, schema } from '../helpers/schema-operations.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

const queries = operations(schema.getQueryType(), 'query');
/** Who changed what is for ADMIN eyes only. */
const ADMIN_ONLY_QUERIES = ['auditLog'];
const mutations = operations(schema.getMutationType(), 'mutation');
const subscriptions = operations(schema.getSubscriptionType(), 'subscription');

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

async function post(query: string, variables: unknown, authorization?: string) {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
}

async function token(scope: 'ADMIN' | 'READ'): Promise<{ id: string; token: string }> {
  const result = await execute(app.url, CreateApiTokenDocument, { input: { name: `${scope} token`, scope } }, TEST_ADMIN_TOKEN);
  return { id: result.data!.createApiToken.apiToken.id, token: result.data!.createApiToken.token };
}

describe('every operation needs a token', () => {
  it('covers the whole schema', () => {
    expect(queries.length).toBeGreaterThanOrEqual(14);
    expect(mutations.length).toBeGreaterThanOrEqual(12);
    expect(subscriptions.length).toBeGreaterThanOrEqual(1);
  });

  it.each([...queries, ...mutations, ...subscriptions].map((op) => [op.name, op]))('%s is refused over HTTP without a token, or with an unknown one', async (_name, op) => {
    for (const authorization of [undefined, 'Bearer hky_unknown', 'Basic abc']) {
      const { status, body } = await post(op.query, op.variables, authorization);
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
  });

  it.each(subscriptions.map((op) => [op.name, op]))('subscription %s is refused over websockets with 4401', async (_name, op) => {
    for (const authorization of [undefined, 'Bearer hky_unknown']) {
      const live = subscribe(app.url, parse(op.query), op.variables, authorization);
      expect(await live.closed).toBe(4401);
      await live.dispose();
    }
  });
});

describe('READ tokens', () => {
  it.each(mutations.map((op) => [op.name, op]))('cannot run %s', async (_name, op) => {
    const read = await token('READ');
    const { status, body } = await post(op.query, op.variables, `Bearer ${read.token}`);
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('can run every query but the audit log, which is FORBIDDEN', async () => {
    const read = await token('READ');
    for (const op of queries) {
      if (ADMIN_ONLY_QUERIES.includes(op.name)) {
        const { status, body } = await post(op.query, op.variables, `Bearer ${read.token}`);
        expect(status, op.name).toBe(200);
        expect(body.errors?.[0]?.extensions?.code, op.name).toBe('FORBIDDEN');
        continue;
      }
      const { status, body } = await post(op.query, op.variables, `Bearer ${read.token}`);
      expect(status, op.name).toBe(200);
      expect(body.errors?.filter((e) => ['UNAUTHENTICATED', 'FORBIDDEN'].includes(e.extensions?.code ?? '')) ?? [], op.name).toEqual([]);
    }
  });

  it('can subscribe, and its socket closes with 4403 once the token is revoked', async () => {
    const read = await token('READ');
    const live = subscribe(app.url, DeliveryUpdatedDocument, {}, `Bearer ${read.token}`);
    await live.connected;
    await waitUntil(() => (app.liveSubscribers() === 1 ? true : undefined), 10_000, 'the subscription');
    const revoked = await execute(app.url, RevokeApiTokenDocument, { id: read.id }, TEST_ADMIN_TOKEN);
    expect(revoked.data!.revokeApiToken.revokedAt).toEqual(expect.any(String));
    expect(await live.closed).toBe(4403);
    const after = await post('{ sources { id } }', {}, `Bearer ${read.token}`);
    expect(after.status).toBe(401);
    await live.dispose();
  });
});

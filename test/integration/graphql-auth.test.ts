import { readFileSync } from 'node:fs';
import {
  buildSchema, getNamedType, parse, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType,
  type GraphQLField, type GraphQLInputType, type GraphQLObjectType,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateApiTokenDocument, DeliveryUpdatedDocument, RevokeApiTokenDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

/** The committed schema, read from the file so that every new operation is covered. */
const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

/** A value of the given input type that passes GraphQL validation (not necessarily business rules). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type)]));
  }
  if (isScalarType(type)) {
    return { ID: '01900000-0000-7000-8000-000000000000', String: 'x', Int: 1, Boolean: true, DateTimeISO: new Date().toISOString(), JSON: {} }[type.name];
  }
  throw new Error(`no sample for ${String(type)}`);
}

function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isObjectType(named) ? ' { __typename }' : '';
}

function operations(root: GraphQLObjectType | null | undefined, keyword: string) {
  return Object.values(root?.getFields() ?? {}).map((field) => {
    const args = field.args;
    const variables = Object.fromEntries(args.filter((a) => isNonNullType(a.type)).map((a) => [a.name, sample(a.type)]));
    const declared = args.filter((a) => a.name in variables).map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
    const passed = args.filter((a) => a.name in variables).map((a) => `${a.name}: $${a.name}`).join(', ');
    const query = `${keyword} Op${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection(field)} }`;
    return { name: field.name, query, variables };
  });
}

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

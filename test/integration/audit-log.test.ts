import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { AuditLogDocument, type AuditLogQueryVariables } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute, postGraphQL } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';

/** The committed schema: a mutation added to it without an audit row fails the scenario below. */
const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
const MUTATIONS = Object.keys(schema.getMutationType()!.getFields());
const ENV_TOKEN_NAME = 'environment admin token';

interface Result {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface Expected {
  operation: string;
  targetId: string | null;
  outcome: string;
  tokenId: string | null;
  tokenName: string;
}

interface AuditRow extends Expected {
  argumentNames: string[];
}

let app: App;
let sink: Sink;
const expected: Expected[] = [];
/** Every secret value the scenario hands to (or receives from) a mutation. */
const secrets: string[] = [];
const secret = (label: string) => {
  const value = `${label}-${randomBytes(9).toString('hex')}`;
  secrets.push(value);
  return value;
};

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
});

const gql = (query: string, variables: Record<string, unknown> = {}, token = TEST_ADMIN_TOKEN): Promise<Result> => postGraphQL(app.url, query, variables, token);

const outcomeOf = (result: Result) => result.errors?.[0]?.extensions?.code ?? 'OK';

/**
 * Runs one mutation, checks it ended as the scenario meant, and notes the row it must leave:
 * the token, the mutation's name, what it acted on (`target` from the result or its id
 * argument) and its outcome.
 */
async function mutate(
  operation: string,
  query: string,
  variables: Record<string, unknown>,
  options: { outcome?: string; target: (data: Record<string, any> | undefined) => string | null; token?: { value: string; id: string | null; name: string } },
): Promise<Result> {
  const token = options.token ?? { value: TEST_ADMIN_TOKEN, id: null, name: ENV_TOKEN_NAME };
  const result = await gql(query, variables, token.value);
  expect(outcomeOf(result), `${operation}: ${JSON.stringify(result.errors)}`).toBe(options.outcome ?? 'OK');
  expected.push({ operation, targetId: options.target(result.data?.[operation]), outcome: outcomeOf(result), tokenId: token.id, tokenName: token.name });
  return result;
}

async function auditRows(): Promise<AuditRow[]> {
  const { rows } = await app.pool.query<AuditRow>(
    `select operation, target_id as "targetId", outcome, token_id as "tokenId", token_name as "tokenName", argument_names as "argumentNames"
     from audit_log order by occurred_at, id`,
  );
  return rows;
}

const auditLog = (variables: AuditLogQueryVariables, token = TEST_ADMIN_TOKEN) => execute(app.url, AuditLogDocument, variables, token);

describe('the audit log', () => {
  it('records every mutation of the schema with its token, target and outcome, and no secret value', async () => {
    const sourceSecret = secret('audit-source-secret');
    const basicPassword = secret('audit-basic-password');
    const source = await mutate('createSource', `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
      input: { name: 'Billing', slug: 'billing', preset: 'HMAC', secret: sourceSecret, signatureHeader: 'X-Billing-Signature', basicAuthUsername: 'billing', basicAuthPassword: basicPassword },
    }, { target: (d) => d!.id });
    const sourceId = source.data!.createSource.id as string;
    await mutate('updateSource', `mutation ($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { id } }`, {
      id: sourceId, input: { name: 'Billing v2', secret: secret('audit-replaced-secret'), basicAuthPassword: secret('audit-new-basic-password') },
    }, { target: () => sourceId });
    await mutate('rotateSourceSecret', `mutation ($id: ID!, $secret: String!) { rotateSourceSecret(id: $id, secret: $secret) { id } }`, {
      id: sourceId, secret: secret('audit-rotated-source-secret'),
    }, { target: () => sourceId });

    const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
    secrets.push(signingSecret);
    const relay = await mutate('createRelay', `mutation ($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } signingSecret } }`, {
      input: {
        name: 'Orders', url: `${sink.url}/hook`, signingSecret,
        headers: [{ name: 'Authorization', value: `Bearer ${secret('audit-header-value')}` }],
        proxyUrl: `http://proxyuser:${secret('audit-proxy-password')}@127.0.0.1:9`,
      },
    }, { target: (d) => d!.relay.id });
    const relayId = relay.data!.createRelay.relay.id as string;
    await mutate('updateRelay', `mutation ($id: ID!, $input: UpdateRelayInput!) { updateRelay(id: $id, input: $input) { id } }`, {
      id: relayId, input: { proxyUrl: null, headers: [{ name: 'X-Api-Key', value: secret('audit-new-header-value') }] },
    }, { target: () => relayId });
    const rotated = await mutate('rotateRelaySecret', `mutation ($id: ID!) { rotateRelaySecret(id: $id) { signingSecret } }`, { id: relayId }, { target: () => relayId });
    secrets.push(rotated.data!.rotateRelaySecret.signingSecret);

    const subscription = await mutate('createSubscription', `mutation ($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }`, {
      input: { relayId, eventTypes: ['*'] },
    }, { target: (d) => d!.id });
    const subscriptionId = subscription.data!.createSubscription.id as string;
    await mutate('updateSubscription', `mutation ($id: ID!, $input: UpdateSubscriptionInput!) { updateSubscription(id: $id, input: $input) { id } }`, {
      id: subscriptionId, input: { eventTypes: ['invoice.*'] },
    }, { target: () => subscriptionId });

    const published = await mutate('publishEvent', `mutation ($payload: JSON!) { publishEvent(type: "invoice.paid", payload: $payload, idempotencyKey: "in_1") { id } }`, {
      payload: { id: 'in_1', amount: 1200 },
    }, { target: (d) => d!.id });
    const eventId = published.data!.publishEvent.id as string;
    const replayed = await mutate('replayEvent', `mutation ($id: ID!) { replayEvent(id: $id) { id } }`, { id: eventId }, { target: () => eventId });
    const deliveryId = replayed.data!.replayEvent[0].id as string;
    await mutate('retryDeliveries', `mutation ($filter: DeliveryFilter!) { retryDeliveries(filter: $filter) }`, { filter: { relayId, status: ['DEAD'] } }, { target: () => null });
    await mutate('disableRelay', `mutation ($id: ID!) { disableRelay(id: $id, reason: "receiver migration") { id } }`, { id: relayId }, { target: () => relayId });
    await mutate('enableRelay', `mutation ($id: ID!) { enableRelay(id: $id) { id } }`, { id: relayId }, { target: () => relayId });
    await mutate('sendTestEvent', `mutation ($relayId: ID!) { sendTestEvent(relayId: $relayId) { id responseStatus } }`, { relayId }, { target: () => relayId });
    await mutate('cancelDelivery', `mutation ($id: ID!) { cancelDelivery(id: $id) { id } }`, { id: deliveryId }, { target: () => deliveryId });
    // Refused by the business rule (a CANCELLED delivery cannot be retried): the row says so.
    await mutate('retryDelivery', `mutation ($id: ID!) { retryDelivery(id: $id) { id } }`, { id: deliveryId }, { target: () => deliveryId, outcome: 'BAD_USER_INPUT' });

    const created = await mutate('createApiToken', `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } token } }`, {
      input: { name: 'dashboard', scope: 'READ' },
    }, { target: (d) => d!.apiToken.id });
    const read = { value: created.data!.createApiToken.token as string, id: created.data!.createApiToken.apiToken.id as string, name: 'dashboard' };
    secrets.push(read.value);
    // A READ token's attempt is refused before the resolver, and recorded with its code.
    await mutate('deleteSource', `mutation ($id: ID!) { deleteSource(id: $id) }`, { id: sourceId }, { target: () => sourceId, outcome: 'FORBIDDEN', token: read });
    await mutate('revokeApiToken', `mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: read.id }, { target: () => read.id });

    await mutate('deleteSubscription', `mutation ($id: ID!) { deleteSubscription(id: $id) }`, { id: subscriptionId }, { target: () => subscriptionId });
    await mutate('deleteRelay', `mutation ($id: ID!) { deleteRelay(id: $id) }`, { id: relayId }, { target: () => relayId });
    await mutate('deleteSource', `mutation ($id: ID!) { deleteSource(id: $id) }`, { id: sourceId }, { target: () => sourceId });
    await mutate('deleteSource', `mutation ($id: ID!) { deleteSource(id: $id) }`, { id: sourceId }, { target: () => sourceId, outcome: 'NOT_FOUND' });
    // A malformed id is "not found" and names no target (it is never stored as given). One
    // holding NUL is refused before anything runs, like a syntax error (nul-refusals.test.ts).
    await mutate('deleteRelay', `mutation ($id: ID!) { deleteRelay(id: $id) }`, { id: 'not-a-uuid' }, { target: () => null, outcome: 'NOT_FOUND' });

    // Over a websocket, with an API token: recorded the same way.
    const admin = await mutate('createApiToken', `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } token } }`, {
      input: { name: 'ops laptop', scope: 'ADMIN' },
    }, { target: (d) => d!.apiToken.id });
    const wsToken = { value: admin.data!.createApiToken.token as string, id: admin.data!.createApiToken.apiToken.id as string, name: 'ops laptop' };
    secrets.push(wsToken.value);
    const live = subscribe<{ publishEvent: { id: string } }, Record<string, never>>(app.url, parse('mutation { publishEvent(type: "ws.test", payload: {}) { id } }'), {}, `Bearer ${wsToken.value}`);
    const wsEvent = await waitUntil(() => live.results[0]?.publishEvent.id, 10_000, 'the mutation over the websocket');
    await live.dispose();
    expected.push({ operation: 'publishEvent', targetId: wsEvent, outcome: 'OK', tokenId: wsToken.id, tokenName: wsToken.name });

    const rows = await auditRows();
    expect(rows.map(({ argumentNames: _names, ...row }) => row)).toEqual(expected);
    expect(MUTATIONS.filter((name) => !rows.some((row) => row.operation === name)), 'mutations without an audit row').toEqual([]);

    // Which arguments were given (names only), so "who changed the relay's headers" has an answer.
    expect(rows.find((row) => row.operation === 'updateRelay')!.argumentNames).toEqual(['id', 'input.headers', 'input.proxyUrl']);
    expect(rows.find((row) => row.operation === 'publishEvent')!.argumentNames).toEqual(['idempotencyKey', 'payload', 'type']);

    // No secret value in any column of any row, nor in what the API shows of them.
    const stored = (await app.pool.query<{ row: string }>('select row_to_json(a)::text as row from audit_log a')).rows.map((r) => r.row).join('\n');
    const shown = JSON.stringify(await auditLog({ first: 100 }));
    expect(secrets.length).toBe(12);
    for (const value of secrets) {
      expect(stored).not.toContain(value);
      expect(shown).not.toContain(value);
    }
    expect(shown).not.toContain('in_1');
  });

  it('is for ADMIN tokens only: a READ token gets FORBIDDEN', async () => {
    const created = await gql(`mutation { createApiToken(input: { name: "viewer", scope: READ }) { token } }`);
    const result = await auditLog({}, created.data!.createApiToken.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.data ?? null).toBeNull();
  });

  it('pages newest first on (time, id) with opaque cursors, and filters', async () => {
    const all = (await auditRows()).reverse();
    expect(all.length).toBeGreaterThan(20);

    const seen: { id: string; operation: string; outcome: string; targetId?: string | null; occurredAt: string }[] = [];
    let after: string | null | undefined = null;
    for (let page = 0; page < 50; page++) {
      const result = await auditLog({ first: 7, after });
      expect(result.errors).toBeUndefined();
      const connection = result.data!.auditLog;
      seen.push(...connection.edges.map((edge) => edge.node));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen.map((node) => [node.operation, node.outcome, node.targetId])).toEqual(all.map((row) => [row.operation, row.outcome, row.targetId]));
    expect(new Set(seen.map((node) => node.id)).size).toBe(seen.length);

    const operations = async (filter: AuditLogQueryVariables['filter']) => (await auditLog({ filter, first: 100 })).data!.auditLog.edges.map((e) => e.node.operation);
    const forbidden = await auditLog({ filter: { outcome: 'FORBIDDEN' } });
    expect(forbidden.data!.auditLog.edges.map((e) => [e.node.operation, e.node.tokenName])).toEqual([['deleteSource', 'dashboard']]);

    const relayId = all.find((row) => row.operation === 'createRelay')!.targetId!;
    const onRelay = await operations({ targetId: relayId });
    expect(onRelay).toEqual(all.filter((row) => row.targetId === relayId).map((row) => row.operation));
    expect(onRelay.length).toBeGreaterThan(5);

    // A null filter field filters nothing.
    expect(await operations({ operation: 'createApiToken', tokenId: null })).toHaveLength(all.filter((row) => row.operation === 'createApiToken').length);
    const wsToken = all.find((row) => row.tokenName === 'ops laptop')!;
    expect(await operations({ tokenId: wsToken.tokenId })).toEqual(['publishEvent']);

    // A time range (the API shows milliseconds; the row keeps microseconds, hence >= and <=).
    const middle = seen[10]!.occurredAt;
    const times = async (filter: AuditLogQueryVariables['filter']) => (await auditLog({ filter, first: 100 })).data!.auditLog.edges.map((e) => e.node.occurredAt);
    const newer = await times({ occurredAfter: middle });
    const older = await times({ occurredBefore: middle });
    expect(newer.length).toBeGreaterThanOrEqual(10);
    expect(older.length).toBeGreaterThanOrEqual(all.length - 11);
    expect(newer.every((at) => at >= middle) && older.every((at) => at <= middle)).toBe(true);

    // A malformed id matches nothing, as everywhere in the API.
    expect(await operations({ targetId: 'not-a-uuid' })).toEqual([]);
    for (const [variables, field] of [[{ first: 101 }, 'first'], [{ first: 0 }, 'first'], [{ after: 'bm90LWEtY3Vyc29y' }, 'after']] as const) {
      const refused = await auditLog(variables);
      expect(refused.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('keeps a mutation\'s answer when its row cannot be written (the row goes to the log instead)', async () => {
    await app.pool.query('alter table audit_log rename to audit_log_away');
    try {
      const result = await gql(`mutation { publishEvent(type: "unaudited", payload: {}) { id } }`);
      expect(result.errors).toBeUndefined();
      expect(result.data!.publishEvent.id).toEqual(expect.any(String));
    } finally {
      await app.pool.query('alter table audit_log_away rename to audit_log');
    }
  });
});

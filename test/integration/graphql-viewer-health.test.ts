import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  CreateApiTokenDocument, CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument, DeliveriesDocument, RelayHealthDocument, ViewerDocument,
} from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

// What the console asks besides the catalogue: who the token is, and how each relay fares.
let app: App;
let sink: Sink;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  sink = await startSink();
});

async function admin<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V): Promise<T> {
  const result = await execute(app.url, document, variables, TEST_ADMIN_TOKEN);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

describe('viewer', () => {
  it('names the caller\'s token and scope, READ tokens included', async () => {
    expect((await admin(ViewerDocument, {})).viewer).toEqual({ tokenName: 'environment admin token', scope: 'ADMIN' });
    const { createApiToken } = await admin(CreateApiTokenDocument, { input: { name: 'dashboard', scope: 'READ' } });
    const read = await execute(app.url, ViewerDocument, {}, createApiToken.token);
    expect(read.data?.viewer).toEqual({ tokenName: 'dashboard', scope: 'READ' });
  });

  it('is refused without a token', async () => {
    const result = await execute(app.url, ViewerDocument, {});
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('Relay.health', () => {
  it('counts the last hour\'s attempts and names the latest error', async () => {
    const { createSource: source } = await admin(CreateSourceDocument, { input: { name: 'gh', slug: 'gh-health', preset: 'GITHUB', secret: 'health-secret' } });
    const { createRelay: { relay } } = await admin(CreateRelayDocument, { input: { name: 'flaky', url: `${sink.url}/hook`, retrySchedule: [] } });
    await admin(CreateSubscriptionDocument, { input: { relayId: relay.id, sourceIds: [source.id], eventTypes: ['*'] } });
    expect((await admin(RelayHealthDocument, { id: relay.id })).relay?.health).toEqual({ attemptsLastHour: 0, succeededLastHour: 0, successRate: null, lastError: null });

    // First webhook answered 503 (no retries: DEAD), the next two 200.
    sink.answer = (index) => (index === 0 ? { status: 503, body: 'down' } : { status: 200, body: 'ok' });
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({ n: i });
      const response = await fetch(`${app.url}/ingest/gh-health`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign('health-secret', body) },
        body,
      });
      expect(response.status).toBe(200);
      await sink.waitFor(i + 1);
    }
    await waitUntil(async () => {
      const { deliveries } = await admin(DeliveriesDocument, { filter: { relayId: relay.id, status: ['SUCCEEDED', 'DEAD'] } });
      return deliveries.edges.length === 3 ? true : undefined;
    }, 20_000, 'three finished deliveries');

    const health = (await admin(RelayHealthDocument, { id: relay.id })).relay!.health;
    expect(health).toMatchObject({ attemptsLastHour: 3, succeededLastHour: 2, lastError: { errorClass: 'HTTP_STATUS', responseStatus: 503 } });
    expect(health.successRate).toBeCloseTo(2 / 3);
  });
});

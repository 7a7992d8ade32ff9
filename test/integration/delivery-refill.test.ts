import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil } from '../helpers/sink.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
});

describe('a relay at its concurrency limit', () => {
  it('gets its next delivery as soon as a slot frees, not at the next poll', async () => {
    const sink = await startSink();
    let open = 0;
    let peak = 0;
    sink.answer = () => {
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => open--, 100);
      return { status: 200, delayMs: 100 };
    };
    // Default maxConcurrency (10) is below the worker's slots per lane: the fetch comes back
    // short because of the relay's limit, and only a freed slot can start the next round.
    const relay = await execute(app.url, CreateRelayDocument, { input: { name: 'refill', url: sink.url } }, TEST_ADMIN_TOKEN);
    await execute(app.url, CreateSubscriptionDocument, { input: { relayId: relay.data!.createRelay.relay.id, eventTypes: ['refill.*'] } }, TEST_ADMIN_TOKEN);
    for (let i = 0; i < 60; i++) await execute(app.url, PublishEventDocument, { type: 'refill.event', payload: { i } }, TEST_ADMIN_TOKEN);
    const started = Date.now();
    await sink.waitFor(60, 30_000);
    // Six rounds of 100 ms: with a 2 s poll between rounds this would take over 10 s.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(peak).toBeLessThanOrEqual(10);
    await waitUntil(async () => {
      const { rows } = await app.pool.query(`select count(*)::int as n from delivery where status = 'SUCCEEDED'`);
      return rows[0].n === 60 ? true : undefined;
    }, 10_000, 'all SUCCEEDED');
    await sink.close();
  });
});

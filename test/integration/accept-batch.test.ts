import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { inTransaction } from '../../src/db/transaction.js';
import { insertAll, type NewEvent } from '../../src/events/accept.js';
import { CreateRelayDocument, CreateSourceDocument, CreateSubscriptionDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';

let app: App;
const sources: Record<string, string> = {};
const relays: Record<string, string> = {};

beforeAll(async () => {
  // Workers off: the deliveries stay as the batch wrote them.
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  for (const slug of ['alpha', 'beta', 'quiet']) {
    const created = await execute(app.url, CreateSourceDocument, { input: { name: slug, slug, preset: 'GITHUB', secret: 's' } }, TEST_ADMIN_TOKEN);
    sources[slug] = created.data!.createSource.id;
  }
  for (const name of ['everything', 'alphaOnly', 'betaPushes']) {
    const created = await execute(app.url, CreateRelayDocument, { input: { name, url: 'http://127.0.0.1:9/never' } }, TEST_ADMIN_TOKEN);
    relays[name] = created.data!.createRelay.relay.id;
  }
  const subscribe = (relay: string, input: { eventTypes: string[]; sourceIds?: string[] }) => execute(app.url, CreateSubscriptionDocument, { input: { relayId: relays[relay]!, ...input } }, TEST_ADMIN_TOKEN);
  await subscribe('everything', { eventTypes: ['*'] });
  await subscribe('alphaOnly', { eventTypes: ['*'], sourceIds: [sources.alpha!] });
  await subscribe('betaPushes', { eventTypes: ['push'], sourceIds: [sources.beta!] });
});

afterAll(async () => {
  await app?.stop();
});

const event = (sourceId: string | null, type: string, key: string | null, body: Buffer): NewEvent => ({ sourceId, type, idempotencyKey: key, headers: { 'x-key': String(key) }, contentType: null, body });

describe('insertAll: several requests in one transaction', () => {
  it('routes each event by its own source, stores every body byte for byte, and answers repeated keys with the first id', async () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const requests: NewEvent[][] = [
      [event(sources.alpha!, 'push', 'a1', Buffer.from('{"n":1}'))],
      [event(sources.beta!, 'push', 'b1', binary)],
      [event(sources.beta!, 'issue', 'b2', Buffer.alloc(0))],
      [event(sources.quiet!, 'push', 'q1', Buffer.alloc(70_000, 7))],
      [event(null, 'system.thing', 'n1', Buffer.from('none'))],
      [event(sources.alpha!, 'push', 'a1', Buffer.from('{"n":"again"}'))],
    ];
    const results = await inTransaction(app.pool, (client) => insertAll(client, app.boss, requests));
    const [a1, b1, b2, q1, n1, again] = results.map((r) => r[0]!);
    expect(again).toEqual({ id: a1!.id, duplicate: true });

    const relaysOf = (r: typeof a1) => (r && !r.duplicate ? r.deliveries.map((d) => d.relayId).sort() : undefined);
    expect(relaysOf(a1)).toEqual([relays.everything, relays.alphaOnly].sort());
    expect(relaysOf(b1)).toEqual([relays.everything, relays.betaPushes].sort());
    expect(relaysOf(b2)).toEqual([relays.everything]);
    expect(relaysOf(q1)).toEqual([relays.everything]);
    expect(relaysOf(n1)).toEqual([relays.everything]);

    const { rows } = await app.pool.query<{ id: string; body: Buffer; headers: Record<string, string>; deliveries: number; jobs: number }>(
      `select e.id, e.body, e.headers, (select count(*)::int from delivery d where d.event_id = e.id) as deliveries,
              (select count(*)::int from pgboss.job j join delivery d on j.data->>'deliveryId' = d.id::text where d.event_id = e.id) as jobs
         from event e`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows).toHaveLength(5);
    expect(byId.get(a1!.id)!.body.toString()).toBe('{"n":1}');
    expect(byId.get(b1!.id)!.body.equals(binary)).toBe(true);
    expect(byId.get(b2!.id)!.body.length).toBe(0);
    expect(byId.get(q1!.id)!.body.equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect(byId.get(n1!.id)!.body.toString()).toBe('none');
    for (const [id, expected] of [[a1!.id, 2], [b1!.id, 2], [b2!.id, 1], [q1!.id, 1], [n1!.id, 1]] as const) {
      expect(byId.get(id)).toMatchObject({ deliveries: expected, jobs: expected });
    }
    // Each event keeps its own headers, though a batch's travel together.
    expect([a1, b1, b2, q1, n1].map((r) => byId.get(r!.id)!.headers['x-key'])).toEqual(['a1', 'b1', 'b2', 'q1', 'n1']);
  });
});

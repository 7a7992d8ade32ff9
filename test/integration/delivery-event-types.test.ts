import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * Event types are any UTF-8 text without NUL (DESIGN.md "Ingest contract"). An HTTP header
 * cannot carry most of it, so `hookyard-event-type` carries the type percent-encoded whenever
 * it holds anything but printable ASCII or a `%`: every such event is delivered, and the
 * relay stays healthy (it used to fail every attempt on the header, go DEAD and be disabled).
 */

let app: App;
let fx: Fixtures;
let sink: Sink;

const SECRET = 'types-secret';

beforeAll(async () => {
  // Three DEAD deliveries would disable the relay: the poisoned types of old did exactly that.
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_DISABLE_AFTER_DEAD: '3' });
  fx = fixtures(app.orm, app.keyring);
  sink = await startSink();
});

async function post(slug: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { id?: string; error?: unknown } }> {
  const signature = createHmac('sha256', SECRET).update(body).digest('hex');
  const response = await fetch(`${app.url}/ingest/${slug}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature, ...headers }, body });
  return { status: response.status, body: (await response.json()) as { id?: string } };
}

/** Waits until the relay's delivery of each event has ended (SUCCEEDED, DEAD, or HELD by a disabled relay); their statuses in the events' order. */
async function finalStatuses(relayId: string, eventIds: string[]): Promise<{ event_id: string; status: string; attempt_count: number }[]> {
  return waitUntil(async () => {
    const { rows } = await app.pool.query<{ event_id: string; status: string; attempt_count: number }>(
      'select event_id, status, attempt_count from delivery where relay_id = $1 and event_id = any($2::uuid[]) order by array_position($2::uuid[], event_id)',
      [relayId, eventIds],
    );
    return rows.length === eventIds.length && rows.every((r) => ['SUCCEEDED', 'DEAD', 'HELD'].includes(r.status)) ? rows : undefined;
  }, 15_000, 'every delivery to end');
}

describe('the hookyard-event-type header', () => {
  it('delivers any UTF-8 event type, percent-encoded when needed and decodable to the exact type, and the relay stays healthy', async () => {
    const source = await fx.source({ slug: 'typed', preset: 'HMAC', secret: SECRET, eventTypeFrom: 'json:$.type' });
    const { relay } = await fx.relay({ url: `${sink.url}/typed`, retrySchedule: [] });
    await fx.subscription({ relay, sourceIds: [source.id] });

    const types = ['注文.作成', 'a\r\nb', '100%', 'deploy.🚀', 'café', 'tab\there', ' padded ', 'order.created', 'a b'];
    const ids: string[] = [];
    for (const type of types) {
      const answer = await post('typed', JSON.stringify({ type }));
      expect(answer.status, `ingest of ${JSON.stringify(type)}`).toBe(200);
      ids.push(answer.body.id!);
    }

    const statuses = await finalStatuses(relay.id, ids);
    expect(statuses.map((s) => s.status)).toEqual(types.map(() => 'SUCCEEDED'));
    expect(statuses.every((s) => s.attempt_count === 1)).toBe(true);

    const byEvent = new Map(sink.received.filter((r) => r.url === '/typed').map((r) => [r.headers['webhook-id'] as string, r.headers['hookyard-event-type'] as string]));
    types.forEach((type, i) => {
      const header = byEvent.get(ids[i]!);
      expect(header, `delivery of ${JSON.stringify(type)}`).toBeDefined();
      // Receivers always decode: a value sent as is holds no `%`, so decoding leaves it alone.
      expect(decodeURIComponent(header!)).toBe(type);
    });
    // Printable ASCII without `%` goes as is, so existing receivers see no change.
    expect(byEvent.get(ids[types.indexOf('order.created')]!)).toBe('order.created');
    expect(byEvent.get(ids[types.indexOf('a b')]!)).toBe('a b');
    expect(byEvent.get(ids[types.indexOf('100%')]!)).toBe('100%25');
    expect(byEvent.get(ids[types.indexOf('注文.作成')]!)).toBe('%E6%B3%A8%E6%96%87.%E4%BD%9C%E6%88%90');

    const { rows } = await app.pool.query<{ enabled: boolean; consecutive_dead: number }>('select enabled, consecutive_dead from relay where id = $1', [relay.id]);
    expect(rows[0]).toEqual({ enabled: true, consecutive_dead: 0 });
  });

  it('delivers a published event with a non-ASCII type the same way', async () => {
    const { relay } = await fx.relay({ url: `${sink.url}/published`, retrySchedule: [] });
    // Only published events (no source) reach it: the other relays here take one source each.
    await fx.subscription({ relay, eventTypes: ['*'], sourceIds: null });
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: 'mutation($type: String!) { publishEvent(type: $type, payload: {}) { id } }', variables: { type: 'заказ.создан' } }),
    });
    const { data } = (await response.json()) as { data: { publishEvent: { id: string } } };
    const [status] = await finalStatuses(relay.id, [data.publishEvent.id]);
    expect(status!.status).toBe('SUCCEEDED');
    const delivered = sink.received.find((r) => r.url === '/published' && r.headers['webhook-id'] === data.publishEvent.id)!;
    expect(decodeURIComponent(delivered.headers['hookyard-event-type'] as string)).toBe('заказ.создан');
  });
});

describe('other outbound headers', () => {
  it('forwards provider headers byte for byte: Node refuses control characters at ingest, and any other byte is sendable', async () => {
    const source = await fx.source({ slug: 'noted', preset: 'HMAC', secret: SECRET, eventTypeFrom: 'json:$.type', keepHeaders: ['x-note'] });
    const { relay } = await fx.relay({ url: `${sink.url}/noted`, retrySchedule: [] });
    await fx.subscription({ relay, sourceIds: [source.id], forwardHeaders: ['X-Note'] });
    // UTF-8 bytes as the provider sends them (a header string is bytes as Latin-1), and a tab.
    const note = Buffer.from('café\t注文', 'utf8').toString('latin1');
    const answer = await post('noted', JSON.stringify({ type: 'noted' }), { 'x-note': note });
    expect(answer.status).toBe(200);
    const [status] = await finalStatuses(relay.id, [answer.body.id!]);
    expect(status!.status).toBe('SUCCEEDED');
    const delivered = sink.received.find((r) => r.url === '/noted')!;
    expect(Buffer.from(delivered.headers['x-note'] as string, 'latin1').toString('utf8')).toBe('café\t注文');
  });

  it('refuses, at save, relay header values a request could not carry (BAD_USER_INPUT naming headers)', async () => {
    const create = async (value: string) => {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({
          query: 'mutation($headers: [HeaderInput!]) { createRelay(input: { name: "h", url: "http://127.0.0.1:9/h", headers: $headers }) { relay { id } } }',
          variables: { headers: [{ name: 'X-Key', value }] },
        }),
      });
      return (await response.json()) as { data?: unknown; errors?: { extensions: { code: string; field?: string } }[] };
    };
    for (const value of ['注文', 'bell\u0007', 'del\u007f', 'café', 'a\rb', 'a\nb']) {
      const answer = await create(value);
      expect(answer.errors?.[0]?.extensions, JSON.stringify(value)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers' });
    }
    expect((await create('Bearer abc\tdef ~!')).errors).toBeUndefined();
    const { rows } = await app.pool.query<{ n: number }>(`select count(*)::int as n from relay where name = 'h'`);
    expect(rows[0]!.n).toBe(1);
  });
});

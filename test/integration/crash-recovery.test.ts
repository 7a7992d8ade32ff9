import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { spawnHookyard, type HookyardProcess } from '../helpers/process.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

let databaseUrl: string;
let api: App;
let fx: Fixtures;
let sink: Sink;
const spawned: HookyardProcess[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  // An API replica only: it accepts and commits, but nothing here delivers.
  api = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  fx = fixtures(api.orm, api.keyring);
  sink = await startSink();
});

afterAll(async () => {
  for (const proc of spawned) proc.kill9();
  await sink.close();
});

async function ingest(slug: string, secret: string, body: string): Promise<string> {
  const response = await fetch(`${api.url}/ingest/${slug}`, {
    method: 'POST',
    headers: { 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(secret, body) },
    body,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

async function status(eventId: string): Promise<string | undefined> {
  const { rows } = await api.pool.query<{ status: string }>('select status from delivery where event_id = $1', [eventId]);
  return rows[0]?.status;
}

describe('acknowledged webhooks survive worker crashes', () => {
  it('is delivered by a worker that starts after the ingest committed', async () => {
    const source = await fx.source({ slug: 'late-worker', preset: 'GITHUB', secret: 's1' });
    const { relay } = await fx.relay({ url: `${sink.url}/late` });
    await fx.subscription({ relay, sourceIds: [source.id] });
    const id = await ingest('late-worker', 's1', '{"n":1}');
    expect(await status(id)).toBe('PENDING');

    const worker = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'worker' });
    await waitUntil(() => (sink.received.some((r) => r.url === '/late') ? true : undefined), 15_000, 'the delivery');
    await waitUntil(async () => ((await status(id)) === 'SUCCEEDED' ? true : undefined), 10_000, 'SUCCEEDED');
    await worker.stop();
  });

  it('is delivered again after a worker is killed with SIGKILL in the middle of the request, and the log shows both requests', async () => {
    const source = await fx.source({ slug: 'killed-worker', preset: 'GITHUB', secret: 's2' });
    const { relay } = await fx.relay({ url: `${sink.url}/killed`, timeoutMs: 60_000 });
    await fx.subscription({ relay, sourceIds: [source.id] });
    // The first request of each delivery hangs (the worker dies holding them); later ones succeed.
    const hung = new Set<string>();
    sink.answer = (_i, request) => {
      const deliveryId = String(request.headers['hookyard-delivery-id']);
      if (request.url === '/killed' && !hung.has(deliveryId)) {
        hung.add(deliveryId);
        return { status: 200, delayMs: 120_000 };
      }
      return { status: 200 };
    };
    const env = { DATABASE_URL: databaseUrl, HOOKYARD_ROLE: 'worker', HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN, HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'warn' };
    const first = await spawnHookyard(env);
    spawned.push(first);
    const ids = [await ingest('killed-worker', 's2', '{"n":2}'), await ingest('killed-worker', 's2', '{"n":3}'), await ingest('killed-worker', 's2', '{"n":4}')];
    await waitUntil(() => (hung.size === ids.length ? true : undefined), 15_000, 'the first worker to start every request');
    for (const id of ids) expect(await status(id)).toBe('DELIVERING');
    first.kill9();

    const second = await spawnHookyard(env);
    spawned.push(second);
    for (const id of ids) await waitUntil(async () => ((await status(id)) === 'SUCCEEDED' ? true : undefined), 45_000, 'SUCCEEDED after the kill');
    for (const id of ids) {
      const { rows: [delivery] } = await api.pool.query<{ id: string; attempt_count: number }>('select id, attempt_count from delivery where event_id = $1', [id]);
      const arrivals = sink.received.filter((r) => r.url === '/killed' && r.headers['hookyard-delivery-id'] === delivery!.id);
      expect(arrivals).toHaveLength(2);
      expect(arrivals.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
      // Every request the receiver saw is in the log: the one cut short by the kill as #1 INTERRUPTED.
      const { rows: attempts } = await api.pool.query<{ number: number; started_at: Date; response_status: number | null; error_class: string | null; error_message: string | null }>(
        'select number, started_at, response_status, error_class, error_message from attempt where delivery_id = $1 order by number',
        [delivery!.id],
      );
      expect(attempts.map((a) => [a.number, a.error_class, a.response_status])).toEqual([[1, 'INTERRUPTED', null], [2, null, 200]]);
      expect(attempts[0]!.error_message).toMatch(/in flight; the receiver may have it/);
      // #1 started when the first worker claimed it, before its request reached the receiver.
      expect(attempts[0]!.started_at.getTime()).toBeLessThanOrEqual(arrivals[0]!.at);
      expect(attempts[1]!.started_at.getTime()).toBeGreaterThan(arrivals[0]!.at);
      expect(delivery!.attempt_count).toBe(attempts.length);
    }
    expect(await second.stop()).toBe(0);
  });
});

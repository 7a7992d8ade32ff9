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

  it('is delivered again after a worker is killed with SIGKILL in the middle of the request', async () => {
    const source = await fx.source({ slug: 'killed-worker', preset: 'GITHUB', secret: 's2' });
    const { relay } = await fx.relay({ url: `${sink.url}/killed`, timeoutMs: 60_000 });
    await fx.subscription({ relay, sourceIds: [source.id] });
    // The first request hangs (the worker dies holding it); later ones succeed.
    let hung = false;
    sink.answer = (_i, request) => {
      if (request.url === '/killed' && !hung) {
        hung = true;
        return { status: 200, delayMs: 120_000 };
      }
      return { status: 200 };
    };
    const env = { DATABASE_URL: databaseUrl, HOOKYARD_ROLE: 'worker', HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN, HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'warn' };
    const first = await spawnHookyard(env);
    spawned.push(first);
    const id = await ingest('killed-worker', 's2', '{"n":2}');
    await waitUntil(() => (hung ? true : undefined), 15_000, 'the first worker to start the request');
    expect(await status(id)).toBe('DELIVERING');
    first.kill9();

    const second = await spawnHookyard(env);
    spawned.push(second);
    await waitUntil(async () => ((await status(id)) === 'SUCCEEDED' ? true : undefined), 45_000, 'SUCCEEDED after the kill');
    const arrivals = sink.received.filter((r) => r.url === '/killed');
    expect(arrivals).toHaveLength(2);
    expect(arrivals[0]!.headers['webhook-id']).toBe(id);
    expect(arrivals[1]!.headers['webhook-id']).toBe(id);
    expect(await second.stop()).toBe(0);
  });
});

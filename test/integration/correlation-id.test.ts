import { Writable } from 'node:stream';
import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil } from '../helpers/sink.js';

// Tracing off (no tracer, no endpoint): the correlation id must work without it.
const lines: Record<string, unknown>[] = [];
const logDestination = new Writable({
  write: (chunk: Buffer, _encoding, done) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
let app: App;
let fx: Fixtures;

beforeAll(async () => {
  // The test's requests come from 127.0.0.1: a trusted proxy's address here.
  app = await startTestApp(await createTestDatabase(), { LOG_LEVEL: 'debug', HOOKYARD_TRUSTED_PROXIES: 'loopback', HOOKYARD_RETRY_POLL_SECONDS: '0.5' }, {}, logDestination);
  fx = fixtures(app.orm, app.keyring);
});

async function postGithub(slug: string, secret: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  return fetch(`${app.url}/ingest/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(secret, body), ...headers },
    body,
  });
}

describe('the correlation id of an ingest request', () => {
  it('is answered, stored with the event, and on every log line of every attempt, with tracing off', async () => {
    const sink = await startSink();
    sink.answer = (index) => ({ status: index === 0 ? 503 : 200 });
    const secret = 'correlation-secret';
    const source = await fx.source({ slug: 'correlated', preset: 'GITHUB', secret });
    const { relay } = await fx.relay({ url: `${sink.url}/hooks`, retrySchedule: [1] });
    await fx.subscription({ relay, sourceIds: [source.id] });

    const response = await postGithub('correlated', secret);
    expect(response.status).toBe(200);
    const { id: eventId } = (await response.json()) as { id: string };
    const correlationId = response.headers.get('x-request-id')!;
    expect(correlationId).toMatch(/^[0-9a-f]{32}$/);
    const { rows: [event] } = await app.pool.query<{ correlation_id: string; traceparent: string | null }>('select correlation_id, traceparent from event where id = $1', [eventId]);
    expect(event).toEqual({ correlation_id: correlationId, traceparent: null });

    await sink.waitFor(2);
    // No tracing, no traceparent.
    for (const request of sink.received) expect(request.headers.traceparent).toBeUndefined();
    const attemptLines = await waitUntil(() => {
      const found = lines.filter((line) => line.msg === 'delivery attempt' && line.eventId === eventId);
      return found.length === 2 ? found : undefined;
    }, 20_000, 'two attempt log lines');
    expect(attemptLines.map((line) => [line.correlationId, line.relayId, line.attempt, line.result])).toEqual([
      [correlationId, relay.id, 1, 'failed'],
      [correlationId, relay.id, 2, 'succeeded'],
    ]);
    expect(lines.find((line) => line.msg === 'webhook accepted' && line.correlationId === correlationId)).toMatchObject({ slug: 'correlated', eventIds: [eventId] });
    await sink.close();
  });

  it('is a trusted proxy\'s X-Request-Id when it has the strict shape, else Hookyard\'s own, on refusals too', async () => {
    const secret = 'correlation-secret-2';
    const source = await fx.source({ slug: 'correlated-2', preset: 'GITHUB', secret });
    const proxyId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    const accepted = await postGithub('correlated-2', secret, { 'x-request-id': proxyId });
    expect(accepted.headers.get('x-request-id')).toBe(proxyId);
    const { id } = (await accepted.json()) as { id: string };
    const { rows } = await app.pool.query<{ correlation_id: string }>('select correlation_id from event where id = $1', [id]);
    expect(rows[0]!.correlation_id).toBe(proxyId);

    for (const hostile of ['short', 'a'.repeat(129), 'abcdefgh<script>', 'abcdefgh%0aINFO']) {
      const answer = await postGithub('correlated-2', secret, { 'x-request-id': hostile });
      expect(answer.headers.get('x-request-id'), hostile).toMatch(/^[0-9a-f]{32}$/);
    }
    const refused = await fetch(`${app.url}/ingest/${source.slug}`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    const unknown = await fetch(`${app.url}/ingest/no-such-source`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
});

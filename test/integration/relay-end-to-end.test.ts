import { sign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

let app: App;
let fx: Fixtures;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  fx = fixtures(app.orm, app.keyring);
});

async function postGithub(slug: string, body: string, secret: string, headers: Record<string, string> = {}) {
  return fetch(`${app.url}/ingest/${slug}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': await sign(secret, body),
      ...headers,
    },
    body,
  });
}

async function deliveryOf(eventId: string) {
  const { rows } = await app.pool.query<{ id: string; status: string; attempt_count: number }>(
    'select id, status, attempt_count from delivery where event_id = $1',
    [eventId],
  );
  return rows[0];
}

describe('a signed GitHub webhook relayed to a receiver', () => {
  it('arrives once, byte for byte, with a Standard Webhooks signature the official library accepts', async () => {
    const sink = await startSink();
    const secret = 'It\'s a Secret to Everybody';
    const source = await fx.source({ slug: 'gh-e2e', preset: 'GITHUB', secret });
    const { relay, signingSecret } = await fx.relay({ url: `${sink.url}/hooks` });
    await fx.subscription({ relay, eventTypes: ['push'], sourceIds: [source.id], forwardHeaders: ['X-GitHub-Delivery'] });

    // Whitespace and key order a JSON round trip would change: the bytes must survive untouched.
    const body = '{"ref":"refs/heads/main",  "commits":[{"id":"abc"}],"n":12345678901234567890}\n';
    const response = await postGithub('gh-e2e', body, secret, { 'x-github-delivery': 'delivery-1' });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { id: string; status: string };
    expect(answer.status).toBe('accepted');

    const [received] = await sink.waitFor(1);
    expect(received!.body.toString('utf8')).toBe(body);
    expect(received!.method).toBe('POST');
    expect(received!.url).toBe('/hooks');
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['webhook-id']).toBe(answer.id);
    expect(received!.headers['hookyard-event-type']).toBe('push');
    expect(received!.headers['hookyard-source']).toBe('gh-e2e');
    expect(received!.headers['x-github-delivery']).toBe('delivery-1');
    expect(received!.headers['x-hub-signature-256']).toBeUndefined();
    expect(received!.headers['user-agent']).toMatch(/^Hookyard\/\d+\.\d+\.\d+$/);

    const headers = Object.fromEntries(Object.entries(received!.headers).map(([k, v]) => [k, String(v)]));
    expect(() => new Webhook(signingSecret).verify(received!.body.toString('utf8'), headers)).not.toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(received!.body.toString('utf8'), headers)).toThrow();

    const delivery = await waitUntil(async () => {
      const d = await deliveryOf(answer.id);
      return d?.status === 'SUCCEEDED' ? d : undefined;
    }, 10_000, 'SUCCEEDED');
    expect(received!.headers['hookyard-delivery-id']).toBe(delivery.id);
    expect(delivery.attempt_count).toBe(1);
    // Exactly once: nothing else arrives.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.received).toHaveLength(1);
    await sink.close();
  });

  it('retries on the relay\'s own schedule: 500, 500, 200 makes three attempts, then SUCCEEDED', async () => {
    const sink = await startSink();
    sink.answer = (index) => (index < 2 ? { status: 500, body: `failure ${index}` } : { status: 200, body: 'fine' });
    const secret = 'retry-secret';
    const source = await fx.source({ slug: 'gh-retry', preset: 'GITHUB', secret });
    const { relay } = await fx.relay({ url: sink.url, retrySchedule: [1, 1, 1] });
    await fx.subscription({ relay, sourceIds: [source.id] });

    const response = await postGithub('gh-retry', '{"zen":"retry"}', secret);
    const { id } = (await response.json()) as { id: string };
    const delivery = await waitUntil(async () => {
      const d = await deliveryOf(id);
      return d?.status === 'SUCCEEDED' ? d : undefined;
    }, 20_000, 'SUCCEEDED after retries');
    expect(delivery.attempt_count).toBe(3);

    const attempts = await app.pool.query<{ number: number; response_status: number; error_class: string | null; response_body_excerpt: string }>(
      'select number, response_status, error_class, response_body_excerpt from attempt where delivery_id = $1 order by number',
      [delivery.id],
    );
    expect(attempts.rows.map((a) => [a.number, a.response_status, a.error_class, a.response_body_excerpt])).toEqual([
      [1, 500, 'HTTP_STATUS', 'failure 0'],
      [2, 500, 'HTTP_STATUS', 'failure 1'],
      [3, 200, null, 'fine'],
    ]);
    // The webhook-id stays the event id on every try, so receivers can de-duplicate.
    expect(new Set(sink.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([id]));
    await sink.close();
  });

  it('ends DEAD after the last step of its schedule when the receiver always fails', async () => {
    const sink = await startSink();
    sink.answer = () => ({ status: 503, body: 'down' });
    const secret = 'dead-secret';
    const source = await fx.source({ slug: 'gh-dead', preset: 'GITHUB', secret });
    const { relay } = await fx.relay({ url: sink.url, retrySchedule: [1, 1] });
    await fx.subscription({ relay, sourceIds: [source.id] });

    const { id } = (await (await postGithub('gh-dead', '{"zen":"dead"}', secret)).json()) as { id: string };
    const delivery = await waitUntil(async () => {
      const d = await deliveryOf(id);
      return d?.status === 'DEAD' ? d : undefined;
    }, 20_000, 'DEAD');
    expect(delivery.attempt_count).toBe(3);
    expect(sink.received).toHaveLength(3);
    await sink.close();
  });

  it('records the error class of a receiver that refuses connections', async () => {
    const sink = await startSink();
    const url = sink.url;
    await sink.close();
    const secret = 'refused-secret';
    const source = await fx.source({ slug: 'gh-refused', preset: 'GITHUB', secret });
    const { relay } = await fx.relay({ url, retrySchedule: [] });
    await fx.subscription({ relay, sourceIds: [source.id] });
    const { id } = (await (await postGithub('gh-refused', '{}', secret)).json()) as { id: string };
    const delivery = await waitUntil(async () => {
      const d = await deliveryOf(id);
      return d?.status === 'DEAD' ? d : undefined;
    }, 10_000, 'DEAD');
    const { rows } = await app.pool.query<{ error_class: string; response_status: number | null }>('select error_class, response_status from attempt where delivery_id = $1', [delivery.id]);
    expect(rows).toEqual([{ error_class: 'CONNECTION_REFUSED', response_status: null }]);
  });

  it('counts ingests and attempts in Prometheus text format at /metrics', async () => {
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^hookyard_ingest_requests_total\{outcome="accepted"\} [1-9]/m);
    expect(text).toMatch(/^hookyard_delivery_attempts_total\{status="SUCCEEDED",error_class=""\} [1-9]/m);
    expect(text).toMatch(/^hookyard_delivery_attempts_total\{status="RETRYING",error_class="HTTP_STATUS"\} [1-9]/m);
    expect(text).toMatch(/^hookyard_delivery_attempt_duration_seconds_count [1-9]/m);
    expect(text).toMatch(/^hookyard_live_subscribers 0$/m);
    expect(text).toMatch(/^hookyard_process_resident_memory_bytes /m);
  });
});

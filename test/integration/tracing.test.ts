import { sign } from '@octokit/webhooks-methods';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures, type Fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil } from '../helpers/sink.js';

// The SDK's in-memory exporter behind the tracer the app would get from OTEL_EXPORTER_OTLP_ENDPOINT.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let app: App;
let fx: Fixtures;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_RETRY_POLL_SECONDS: '0.5' }, { tracer: provider.getTracer('hookyard') });
  fx = fixtures(app.orm, app.keyring);
});

const PROVIDER_TRACE = 'abcdef0123456789abcdef0123456789';
const PROVIDER_TRACEPARENT = `00-${PROVIDER_TRACE}-0123456789abcdef-01`;

async function postGithub(slug: string, secret: string, headers: Record<string, string> = {}, signature?: string) {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  return fetch(`${app.url}/ingest/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': signature ?? (await sign(secret, body)), ...headers },
    body,
  });
}

/** The finished spans of a trace (the processor exports each one asynchronously: flushed first). */
async function spans(traceId: string, name?: string): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId && (name === undefined || s.name === name));
}

describe('traces', () => {
  it('show one webhook from the provider to every receiver: the ingest span, its verify and commit, every attempt under it, and the traceparent each receiver got', async () => {
    const ok = await startSink();
    const flaky = await startSink();
    flaky.answer = (index) => ({ status: index === 0 ? 500 : 200 });
    const secret = 'trace-secret';
    const source = await fx.source({ slug: 'traced', preset: 'GITHUB', secret });
    const { relay: relayOk } = await fx.relay({ url: `${ok.url}/a` });
    const { relay: relayFlaky } = await fx.relay({ url: `${flaky.url}/b?token=secret-in-query`, retrySchedule: [1] });
    // A subscription that asks to forward the provider's own traceparent: ours replaces it.
    await fx.subscription({ relay: relayOk, sourceIds: [source.id], forwardHeaders: ['traceparent'] });
    await fx.subscription({ relay: relayFlaky, sourceIds: [source.id] });

    // A request id from a peer that is no trusted proxy is ignored: the trace id names the request.
    const response = await postGithub('traced', secret, { traceparent: PROVIDER_TRACEPARENT, 'x-request-id': 'provider-chosen-id-123' });
    expect(response.status).toBe(200);
    const { id: eventId } = (await response.json()) as { id: string };
    const correlationId = response.headers.get('x-request-id')!;
    expect(correlationId).toMatch(/^[0-9a-f]{32}$/);

    const [ingest] = await spans(correlationId, 'ingest');
    expect(ingest, 'the ingest span has the correlation id as its trace id').toBeDefined();
    expect(ingest!.kind).toBe(SpanKind.SERVER);
    // A new root: the provider's context is a link, never the parent.
    expect(ingest!.parentSpanContext).toBeUndefined();
    expect(ingest!.links.map((l) => l.context.traceId)).toEqual([PROVIDER_TRACE]);
    expect(ingest!.attributes).toMatchObject({ 'hookyard.source.slug': 'traced', 'hookyard.source.preset': 'GITHUB', 'http.response.status_code': 200, 'hookyard.correlation_id': correlationId });
    const ingestSpanId = ingest!.spanContext().spanId;
    for (const name of ['verify', 'commit']) {
      const [child] = await spans(correlationId, name);
      expect(child?.parentSpanContext?.spanId, name).toBe(ingestSpanId);
    }

    const { rows: [event] } = await app.pool.query<{ correlation_id: string; traceparent: string }>('select correlation_id, traceparent from event where id = $1', [eventId]);
    expect(event).toEqual({ correlation_id: correlationId, traceparent: `00-${correlationId}-${ingestSpanId}-01` });

    await ok.waitFor(1);
    await flaky.waitFor(2);
    const attempts = await waitUntil(async () => {
      const found = await spans(correlationId, 'delivery attempt');
      return found.length === 3 ? found : undefined;
    }, 20_000, 'three attempt spans');
    for (const attempt of attempts) {
      expect(attempt.kind).toBe(SpanKind.CLIENT);
      expect(attempt.parentSpanContext?.spanId).toBe(ingestSpanId);
      expect(attempt.attributes['hookyard.event.id']).toBe(eventId);
      expect(attempt.attributes['server.address']).toBe('127.0.0.1');
      expect(JSON.stringify(attempt.attributes)).not.toContain('secret-in-query');
    }
    const failed = attempts.filter((a) => a.status.code === SpanStatusCode.ERROR);
    expect(failed.map((a) => [a.attributes['hookyard.relay.id'], a.attributes['http.response.status_code'], a.attributes['error.type'], a.attributes['hookyard.attempt']]))
      .toEqual([[relayFlaky.id, 500, 'HTTP_STATUS', 1]]);

    // Each receiver got the traceparent of the attempt that reached it, once, and no tracestate.
    const sent = [...ok.received, ...flaky.received].map((r) => r.headers.traceparent);
    expect(sent.toSorted()).toEqual(attempts.map((a) => `00-${correlationId}-${a.spanContext().spanId}-01`).toSorted());
    for (const request of [...ok.received, ...flaky.received]) expect(request.headers.tracestate).toBeUndefined();
    await ok.close();
    await flaky.close();
  });

  it('ignores a malformed provider traceparent, and ends a refused request\'s span with its code', async () => {
    const secret = 'trace-secret-2';
    await fx.source({ slug: 'traced-refused', preset: 'GITHUB', secret });
    const response = await postGithub('traced-refused', secret, { traceparent: `00-${PROVIDER_TRACE.toUpperCase()}-0123456789abcdef-01` }, `sha256=${'0'.repeat(64)}`);
    expect(response.status).toBe(401);
    const traceId = response.headers.get('x-request-id')!;
    const [ingest] = await spans(traceId, 'ingest');
    expect(ingest!.links).toEqual([]);
    expect(ingest!.attributes).toMatchObject({ 'http.response.status_code': 401, 'hookyard.ingest.outcome': 'INVALID_SIGNATURE' });
    // The sender's fault, not ours: the server span is not an error; the verify span is.
    expect(ingest!.status.code).toBe(SpanStatusCode.UNSET);
    const [verify] = await spans(traceId, 'verify');
    expect(verify!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'INVALID_SIGNATURE' });
    expect(await spans(traceId, 'commit')).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { seal } from '../../src/crypto/seal.js';
import { sealedAt } from '../../src/crypto/sealed-at.js';
import { buildRequest, type ClaimedRow } from '../../src/delivery/build-request.js';
import { OpenedSecrets } from '../../src/delivery/opened-secrets.js';
import { trustedRequestId } from '../../src/ingest/correlation-id.js';
import { AttemptSpan } from '../../src/tracing/attempt-span.js';
import { newCorrelationId, startIngestTrace } from '../../src/tracing/ingest-trace.js';
import { formatTraceparent, parseTraceparent } from '../../src/tracing/traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent from the network or a row', () => {
  it.each([
    [`00-${TRACE}-${SPAN}-01`, { traceId: TRACE, spanId: SPAN, traceFlags: 1 }],
    [`00-${TRACE}-${SPAN}-00`, { traceId: TRACE, spanId: SPAN, traceFlags: 0 }],
    // Unknown flag bits are dropped, only "sampled" is kept.
    [`00-${TRACE}-${SPAN}-03`, { traceId: TRACE, spanId: SPAN, traceFlags: 1 }],
  ])('%s is a context', (value, context) => {
    expect(parseTraceparent(value)).toEqual({ ...context, isRemote: true });
  });

  it.each([
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['another version', `01-${TRACE}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['trailing data', `00-${TRACE}-${SPAN}-01-extra`],
    ['leading space', ` 00-${TRACE}-${SPAN}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['non-hex', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ['huge', `00-${TRACE}-${SPAN}-01${'a'.repeat(100_000)}`],
    ['empty', ''],
    ['null', null],
  ])('%s is ignored', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('formats what it parses', () => {
    expect(formatTraceparent(parseTraceparent(`00-${TRACE}-${SPAN}-01`)!)).toBe(`00-${TRACE}-${SPAN}-01`);
  });
});

describe('X-Request-Id as the correlation id', () => {
  it.each([
    ['a UUID', '3fa85f64-5717-4562-b3fc-2c963f66afa6', true, '3fa85f64-5717-4562-b3fc-2c963f66afa6'],
    ['nginx 32 hex', 'f'.repeat(32), true, 'f'.repeat(32)],
    ['dots, colons, underscores', 'req_2026.11:30-abc', true, 'req_2026.11:30-abc'],
    ['from anyone but a trusted proxy', 'f'.repeat(32), false, undefined],
    ['too short', 'abc1234', true, undefined],
    ['too long', 'a'.repeat(129), true, undefined],
    ['a space', 'abcd efgh', true, undefined],
    ['a quote', 'abcdefgh"', true, undefined],
    ['a newline', 'abcdefgh\nlevel=fatal', true, undefined],
    ['non-ASCII', 'abcdéfghi', true, undefined],
    ['a leading dash', '-abcdefgh', true, undefined],
  ])('%s', (_, value, trusted, expected) => {
    expect(trustedRequestId({ 'x-request-id': value }, trusted)).toBe(expected);
  });

  it('ignores a repeated header and its absence', () => {
    expect(trustedRequestId({}, true)).toBeUndefined();
    expect(trustedRequestId({ 'x-request-id': ['a'.repeat(16), 'b'.repeat(16)] as unknown as string }, true)).toBeUndefined();
  });

  it('makes its own as 32 lowercase hex, like a trace id', () => {
    const ids = new Set(Array.from({ length: 1000 }, newCorrelationId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('traceparent sent to a receiver', () => {
  const ring = createKeyring(parseKey(randomBytes(32).toString('base64')));
  const relayId = '11111111-1111-4111-8111-111111111111';
  const row: ClaimedRow = {
    id: 'd', created_at: new Date(), relay_id: relayId, event_id: 'evt', type: 'push', body: Buffer.from('{}'), content_type: 'application/json',
    event_headers: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: 'provider=1', 'x-github-delivery': 'd1' },
    source_slug: 'gh', url: 'http://127.0.0.1/', method: 'POST',
    // Stored before traceparent and tracestate were reserved names.
    headers_sealed: seal(ring, JSON.stringify([{ name: 'TraceParent', value: 'relay-own' }, { name: 'TraceState', value: 'relay=1' }, { name: 'X-Api-Key', value: 'k' }]), sealedAt.relayHeaders(relayId)),
    signing_secret_sealed: seal(ring, `whsec_${randomBytes(24).toString('base64')}`, sealedAt.relaySigningSecret(relayId)),
    previous_signing_secret_sealed: null, previous_signing_secret_expires_at: null, timeout_ms: 1000, retry_schedule: null, max_age_seconds: null,
    max_concurrency: 10, rate_limit_per_second: null, proxy_url: null, proxy_url_sealed: null,
    forward_headers: ['traceparent', 'tracestate', 'X-GitHub-Delivery'], correlation_id: 'c'.repeat(32), traceparent: null,
  };
  const ours = `00-${TRACE}-${SPAN}-01`;

  it('is ours alone when tracing is on: forwarded and relay headers of that name give way, tracestate goes', () => {
    const { headers, logged } = buildRequest(row, new OpenedSecrets(ring), 'Hookyard/test', 'd', new Date(), ours);
    expect(headers.traceparent).toBe(ours);
    expect(headers.tracestate).toBeUndefined();
    expect(logged.traceparent).toBe(ours);
    expect(logged.tracestate).toBeUndefined();
    expect(Object.keys(headers).filter((name) => name.toLowerCase() === 'traceparent')).toEqual(['traceparent']);
    expect(headers['x-github-delivery']).toBe('d1');
    expect(headers['x-api-key']).toBe('k');
  });

  it('is what the relay and subscription say when tracing is off', () => {
    const { headers } = buildRequest(row, new OpenedSecrets(ring), 'Hookyard/test', 'd', new Date());
    expect(headers.traceparent).toBe('relay-own');
    expect(headers.tracestate).toBe('relay=1');
  });
});

describe('spans without a stored context', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('test');
  const input = { deliveryId: 'd', eventId: 'e', relayId: 'r', attempt: 1, url: 'https://user:pw@receiver.example/hooks?key=k', correlationId: null };

  it.each([
    ['none (tracing was off, or a published event)', null],
    ['a malformed one', `00-${TRACE}-${SPAN}-01 `],
  ])('an attempt with %s starts a trace of its own', async (_, traceparent) => {
    const span = new AttemptSpan(tracer, { ...input, traceparent });
    span.end({ ok: true, status: 200, result: 'succeeded' });
    await provider.forceFlush();
    const [finished] = exporter.getFinishedSpans().slice(-1);
    expect(finished!.parentSpanContext).toBeUndefined();
    expect(finished!.spanContext().traceId).not.toBe(TRACE);
    expect(span.traceparent).toBe(`00-${finished!.spanContext().traceId}-${finished!.spanContext().spanId}-01`);
    expect(finished!.attributes['server.address']).toBe('receiver.example');
  });

  it('keeps a trusted request id as the correlation id with tracing on, the trace id otherwise', () => {
    const named = startIngestTrace(tracer, { requestId: 'proxy-request-0001', traceparent: undefined, method: 'POST' });
    expect(named.correlationId).toBe('proxy-request-0001');
    expect(parseTraceparent(named.traceparent)).toBeDefined();
    const own = startIngestTrace(tracer, { requestId: undefined, traceparent: undefined, method: 'POST' });
    expect(own.traceparent).toBe(`00-${own.correlationId}-${parseTraceparent(own.traceparent)!.spanId}-01`);
    const untraced = startIngestTrace(undefined, { requestId: undefined, traceparent: `00-${TRACE}-${SPAN}-01`, method: 'POST' });
    expect(untraced.traceparent).toBeNull();
    expect(untraced.correlationId).toMatch(/^[0-9a-f]{32}$/);
    named.end(200);
    own.end(200);
  });
});

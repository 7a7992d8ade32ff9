import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil } from '../helpers/sink.js';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; links?: { traceId: string }[] }
interface OtlpRequest { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

// An OTLP/HTTP collector in this process (JSON encoding), and the standard variables pointing at it.
const exported: OtlpRequest[] = [];
let collector: Server;
let app: App;

beforeAll(async () => {
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') exported.push(JSON.parse(Buffer.concat(chunks).toString()) as OtlpRequest);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'hookyard-otlp-test',
  };
  // The SDK reads the process's environment itself (config.ts only checks it); a short batch delay keeps the test quick.
  Object.assign(process.env, env, { OTEL_BSP_SCHEDULE_DELAY: '100' });
  app = await startTestApp(await createTestDatabase(), env);
});

afterAll(() => new Promise<void>((resolve) => {
  collector.close(() => resolve());
  collector.closeAllConnections();
}));

const allSpans = (): (OtlpSpan & { service?: string })[] =>
  exported.flatMap((r) => r.resourceSpans.flatMap((rs) => {
    const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, service })));
  }));

describe('traces over OTLP', () => {
  it('reach a collector named by OTEL_EXPORTER_OTLP_ENDPOINT: ingest, verify, commit and the attempt under one trace id', async () => {
    const fx = fixtures(app.orm, app.keyring);
    const sink = await startSink();
    const secret = 'otlp-secret';
    const source = await fx.source({ slug: 'otlp', preset: 'GITHUB', secret });
    const { relay } = await fx.relay({ url: `${sink.url}/hooks` });
    await fx.subscription({ relay, sourceIds: [source.id] });
    const body = '{"zen":"Keep it logically awesome."}';
    const response = await fetch(`${app.url}/ingest/otlp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(secret, body) },
      body,
    });
    expect(response.status).toBe(200);
    const traceId = response.headers.get('x-request-id')!;
    const [received] = await sink.waitFor(1);

    const trace = await waitUntil(() => {
      const spans = allSpans().filter((s) => s.traceId === traceId);
      return spans.some((s) => s.name === 'delivery attempt') ? spans : undefined;
    }, 20_000, 'the attempt span at the collector');
    const byName = Object.fromEntries(trace.map((s) => [s.name, s]));
    expect(Object.keys(byName).toSorted()).toEqual(['commit', 'delivery attempt', 'ingest', 'verify']);
    expect(trace.every((s) => s.service === 'hookyard-otlp-test')).toBe(true);
    const ingestId = byName.ingest!.spanId;
    expect(byName.ingest!.parentSpanId ?? '').toBe('');
    for (const name of ['verify', 'commit', 'delivery attempt']) expect(byName[name]!.parentSpanId, name).toBe(ingestId);
    expect(received!.headers.traceparent).toBe(`00-${traceId}-${byName['delivery attempt']!.spanId}-01`);
    await sink.close();
  });
});

import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';

/**
 * Property-based ingest fuzz: seeded requests written byte by byte on raw sockets (malformed
 * headers and bodies, wrong encodings and lengths, truncated and duplicated signatures, odd
 * paths and methods) across several presets. Whatever arrives: never a 5xx or a hang, no
 * error-level log line, memory bounded, and every stored event is one the test signed with
 * the source's secret. HOOKYARD_FUZZ_RUNS runs more (the fault suite runs 10,000).
 */
const RUNS = Number(process.env.HOOKYARD_FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.HOOKYARD_FUZZ_SEED ?? 20261130);

let app: App;
const logLines: string[] = [];
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
    done();
  },
});

const SW_KEY = Buffer.from('fuzz-standard-webhooks-key-0123456789');
const SECRETS = {
  'fz-gh': 'fuzz-github-secret',
  'fz-stripe': 'whsec_fuzzstripesecret',
  'fz-sw': `whsec_${SW_KEY.toString('base64')}`,
  'fz-shop': 'fuzz-shopify-secret',
  'fz-hmac': 'fuzz-hmac-secret',
} as const;
type Slug = keyof typeof SECRETS;
const SLUGS = Object.keys(SECRETS) as Slug[];

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), {
    HOOKYARD_ROLE: 'api', LOG_LEVEL: 'warn',
    // Every request from 127.0.0.1 must reach verification, not the per-address failure limit.
    HOOKYARD_INGEST_FAILURES_PER_ADDRESS: '1000000',
  }, {}, logDestination);
  const fx = fixtures(app.orm, app.keyring);
  await fx.source({ slug: 'fz-gh', preset: 'GITHUB', secret: SECRETS['fz-gh'], maxBodyBytes: 4096 });
  await fx.source({ slug: 'fz-stripe', preset: 'STRIPE', secret: SECRETS['fz-stripe'] });
  await fx.source({ slug: 'fz-sw', preset: 'STANDARD_WEBHOOKS', secret: SECRETS['fz-sw'], dedupeWindowSeconds: 60 });
  await fx.source({ slug: 'fz-shop', preset: 'SHOPIFY', secret: SECRETS['fz-shop'] });
  await fx.source({ slug: 'fz-hmac', preset: 'HMAC', secret: SECRETS['fz-hmac'], signatureHeader: 'X-Fuzz-Signature', idempotencyKeyFrom: 'header:X-Fuzz-Id' });
});

const SIGNATURE_MODES = ['valid', 'duplicated', 'truncated', 'wrong-secret', 'other-body', 'garbage', 'missing', 'stale'] as const;
type SignatureMode = (typeof SIGNATURE_MODES)[number];

interface Case {
  slug: Slug;
  method: string;
  /** Replaces `/ingest/<slug>` when set. */
  path: string | null;
  body: Buffer;
  signature: SignatureMode;
  length: 'exact' | 'chunked' | 'short' | 'long' | 'none';
  encoding: string | null;
  contentType: string | null;
  eventType: string | null;
  idempotencyKey: string | null;
  extra: [string, string][];
}

const hmac = (algorithm: string, key: string | Buffer, data: string | Buffer, encoding: 'hex' | 'base64') => createHmac(algorithm, key).update(data).digest(encoding);

/** The signature headers of a case; `signed` says whether the exact body was signed with the source's secret. */
function signatureHeaders(c: Case, now: number): { headers: [string, string][]; signed: boolean } {
  const secret = c.signature === 'wrong-secret' ? 'not-the-secret' : SECRETS[c.slug];
  const body = c.signature === 'other-body' ? Buffer.concat([c.body, Buffer.from('x')]) : c.body;
  const ts = c.signature === 'stale' ? now - 3600 : now;
  const id = c.idempotencyKey ?? 'msg_fuzz';
  let name: string;
  let value: string;
  const extra: [string, string][] = [];
  switch (c.slug) {
    case 'fz-gh':
      name = 'X-Hub-Signature-256';
      value = `sha256=${hmac('sha256', secret, body, 'hex')}`;
      break;
    case 'fz-stripe':
      name = 'Stripe-Signature';
      value = `t=${ts},v1=${hmac('sha256', secret, Buffer.concat([Buffer.from(`${ts}.`), body]), 'hex')}`;
      break;
    case 'fz-sw': {
      name = 'webhook-signature';
      const key = c.signature === 'wrong-secret' ? Buffer.from('other') : SW_KEY;
      value = `v1,${hmac('sha256', key, Buffer.concat([Buffer.from(`${id}.${ts}.`), body]), 'base64')}`;
      extra.push(['webhook-id', id], ['webhook-timestamp', String(ts)]);
      break;
    }
    case 'fz-shop':
      name = 'X-Shopify-Hmac-Sha256';
      value = hmac('sha256', secret, body, 'base64');
      break;
    case 'fz-hmac':
      name = 'X-Fuzz-Signature';
      value = hmac('sha256', secret, body, 'hex');
      break;
  }
  const signedWithSecret = c.signature === 'valid' || c.signature === 'duplicated' || (c.signature === 'stale' && (c.slug === 'fz-gh' || c.slug === 'fz-shop' || c.slug === 'fz-hmac'));
  if (c.signature === 'missing') return { headers: extra, signed: false };
  if (c.signature === 'garbage') return { headers: [[name, 'v1,AAAA sha256=zz t=1'], ...extra], signed: false };
  if (c.signature === 'truncated') return { headers: [[name, value.slice(0, Math.max(1, value.length - 5))], ...extra], signed: false };
  if (c.signature === 'duplicated') return { headers: [[name, value], [name, value], ...extra], signed: true };
  return { headers: [[name, value], ...extra], signed: signedWithSecret };
}

/** The request's bytes exactly as written to the socket; header text is written as latin1, as Node reads it. */
function requestBytes(c: Case, now: number): { bytes: Buffer; signed: boolean; halfClose: boolean } {
  const { headers, signed } = signatureHeaders(c, now);
  const lines = [`${c.method} ${c.path ?? `/ingest/${c.slug}`} HTTP/1.1`, 'Host: hookyard.test', 'Connection: close'];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (c.eventType !== null) lines.push(`${c.slug === 'fz-shop' ? 'X-Shopify-Topic' : 'X-GitHub-Event'}: ${c.eventType}`);
  if (c.idempotencyKey !== null && c.slug !== 'fz-sw') lines.push(`${c.slug === 'fz-hmac' ? 'X-Fuzz-Id' : 'X-GitHub-Delivery'}: ${c.idempotencyKey}`);
  if (c.encoding !== null) lines.push(`Content-Encoding: ${c.encoding}`);
  if (c.contentType !== null) lines.push(`Content-Type: ${c.contentType}`);
  for (const [name, value] of c.extra) lines.push(`${name}: ${value}`);
  let body = c.body;
  if (c.length === 'exact') lines.push(`Content-Length: ${body.length}`);
  if (c.length === 'short') lines.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
  if (c.length === 'long') lines.push(`Content-Length: ${body.length + 50}`);
  if (c.length === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const half = Math.floor(body.length / 2);
    const chunk = (b: Buffer) => (b.length ? [Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')] : []);
    body = Buffer.concat([...chunk(body.subarray(0, half)), ...chunk(body.subarray(half)), Buffer.from('0\r\n\r\n')]);
  }
  if (c.length === 'none') body = Buffer.alloc(0);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  // `signed`: this body was signed with the source's secret. Whatever else is odd about the
  // request (a query, a fragment), storing that body is right; storing any other bytes is not.
  return { bytes: Buffer.concat([head, body]), signed, halfClose: c.length === 'long' };
}

/** Writes the bytes, reads until the server closes; the status (0 when it closed without one). */
function exchange(bytes: Buffer, halfClose: boolean): Promise<{ status: number; hung: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(app.port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), hung: true });
    }, 10_000);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), hung: false });
    });
    socket.write(bytes, () => {
      // A body shorter than declared: the sender gives up (half-close), as a dropped client would.
      if (halfClose) socket.end();
    });
  });
}

const headerText = fc.string({ unit: 'binary', maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, ' '));
const oddText = fc.oneof(
  fc.string({ maxLength: 60 }),
  headerText,
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
  fc.constantFrom('', ' ', 'a\tb', '%00', '\u0000', 'é', '\u00ff\u00fe', 'x'.repeat(600)),
);
const typeAndKey = fc.string({ maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const jsonBody = (withEnvelope: boolean) =>
  withEnvelope
    ? fc.record({ id: typeAndKey, type: typeAndKey, data: fc.jsonValue({ maxDepth: 3 }) }).map((o) => Buffer.from(JSON.stringify(o)))
    : fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s));

const caseArbitrary: fc.Arbitrary<Case> = fc.constantFrom(...SLUGS).chain((slug) =>
  fc.record({
    slug: fc.constant(slug),
    method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'post', 'BREW') }),
    path: fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.constantFrom('/ingest/', '/ingest/%', '/ingest/%00', '/ingest/%E2%9C%93', `/ingest/${slug}/extra`, `/ingest/${slug}?a=%ZZ&a=1`, `/ingest/${slug.toUpperCase()}`,
        `/ingest/${'a'.repeat(64)}`, `/ingest/${'b'.repeat(4000)}`, '/ingest/..%2f..%2fetc', '/ingest//x', `/ingest/${slug}%00`, `/ingest/${slug}#frag`, '*', '/ingest/a%c0%80') },
    ),
    body: fc.oneof(
      { weight: 5, arbitrary: jsonBody(slug === 'fz-stripe' || slug === 'fz-sw') },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }).map((a) => Buffer.from(a)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 256 }).map((s) => Buffer.from(s, 'utf8')) },
      { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from('{'), Buffer.from('\u0000'), Buffer.alloc(5000, 'z')) },
    ),
    signature: fc.oneof({ weight: 6, arbitrary: fc.constant('valid' as const) }, { weight: 6, arbitrary: fc.constantFrom(...SIGNATURE_MODES) }),
    length: fc.oneof({ weight: 6, arbitrary: fc.constant('exact' as const) }, { weight: 1, arbitrary: fc.constantFrom('chunked' as const, 'short' as const, 'long' as const, 'none' as const) }),
    encoding: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('gzip', 'identity', 'IDENTITY', 'br', 'deflate, gzip', '') }),
    contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'x/\u00e9'), { freq: 3 }),
    eventType: fc.option(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('push', 'orders/create', 'a.b.c') }, { weight: 1, arbitrary: oddText }), { freq: 8 }),
    idempotencyKey: fc.option(fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: oddText }), { freq: 4 }),
    extra: fc.oneof({ weight: 4, arbitrary: fc.constant([] as [string, string][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom('X-Extra', 'Content-Length', 'Content-Encoding', 'Transfer-Encoding', 'Expect', 'X-Hub-Signature-256', 'webhook-timestamp', 'Authorization', 'X\u00e9', 'X Space'), oddText), { minLength: 1, maxLength: 2 }) }),
  }),
);

/** Runs the cases `width` at a time. */
async function pooled<T, R>(width: number, items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i]!);
    }
  }));
  return results;
}

describe('ingest under fuzzed requests', () => {
  it(`answers ${RUNS} hostile requests without a 5xx, an error log line or an unverified event`, async () => {
    const cases = fc.sample(caseArbitrary, { numRuns: RUNS, seed: SEED });
    const signedBodies = new Set<string>();
    const memoryBefore = process.memoryUsage();
    const results = await pooled(16, cases, async (c) => {
      const { bytes, signed, halfClose } = requestBytes(c, Math.floor(Date.now() / 1000));
      if (signed) signedBodies.add(`${c.slug}:${createHash('sha256').update(c.body).digest('hex')}`);
      return { c, ...(await exchange(bytes, halfClose)) };
    });
    const memoryAfter = process.memoryUsage();

    const failures = results.filter((r) => r.status >= 500 || r.hung);
    expect(failures.map((r) => ({ status: r.status, hung: r.hung, case: { ...r.c, body: r.c.body.toString('latin1').slice(0, 80) } })).slice(0, 5)).toEqual([]);
    // Most cases reach the sources (not only Node's parser): the property is about ingest.
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(RUNS / 5);
    expect(results.filter((r) => r.status === 401).length).toBeGreaterThan(RUNS / 10);

    // Hookyard's own events (the refusals' source.rejecting) come from the built-in source, not from a request.
    const { rows } = await app.pool.query<{ slug: string; sha: string }>(
      `select s.slug, encode(sha256(e.body), 'hex') as sha from event e join source s on s.id = e.source_id where not s.builtin`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => !signedBodies.has(`${r.slug}:${r.sha}`))).toEqual([]);

    const errors = logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
    // Bounded: nothing of 2,000 requests is kept (bodies are at most a few KiB each).
    const grownMiB = (memoryAfter.heapUsed + memoryAfter.arrayBuffers - memoryBefore.heapUsed - memoryBefore.arrayBuffers) / 1024 / 1024;
    expect(grownMiB).toBeLessThan(Math.max(150, RUNS / 20));
  }, 120_000);
});

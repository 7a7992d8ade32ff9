import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateSourceDocument, RejectedRequestsDocument, UpdateSourceDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { execute } from '../helpers/graphql.js';

/**
 * Hostile senders: floods of refusals stay a few aggregated rows, the provider is never locked
 * out by other addresses, a source may fence itself to CIDRs, and replays without a timestamp
 * can be caught by content dedupe. Addresses come from X-Forwarded-For (loopback is trusted).
 */
let app: App;
const SECRET = 'hostile-secret';

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api', HOOKYARD_TRUSTED_PROXIES: 'loopback' });
  const fx = fixtures(app.orm, app.keyring);
  await fx.source({ slug: 'gh', preset: 'GITHUB', secret: SECRET });
  await fx.source({ slug: 'limited', preset: 'GITHUB', secret: SECRET, rateLimitPerSecond: 50 });
  await fx.source({ slug: 'fenced', preset: 'GITHUB', secret: SECRET, allowedCidrs: ['198.51.100.0/24', '2001:db8::/32'] });
  await fx.source({ slug: 'deduped', preset: 'GITHUB', secret: SECRET, dedupeWindowSeconds: 600 });
});

interface Sent {
  status: number;
  body: { id?: string; status?: string; error?: { code: string; message: string } };
  headers: Headers;
}

async function send(path: string, from: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Sent> {
  const response = await fetch(`${app.url}${path}`, { method: init.method ?? 'POST', headers: { 'x-forwarded-for': from, ...init.headers }, body: init.body });
  const text = await response.text();
  let body: Sent['body'] = {};
  try {
    body = JSON.parse(text) as Sent['body'];
  } catch {
    // not JSON
  }
  return { status: response.status, body, headers: response.headers };
}

async function signed(slug: string, from: string, body: string, delivery: string = crypto.randomUUID()): Promise<Sent> {
  return send(`/ingest/${slug}`, from, { body, headers: { 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': await sign(SECRET, body) } });
}

/** Runs the tasks `width` at a time. */
async function pooled<T>(width: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
}

async function logged(addresses: string[]): Promise<{ rows: number; total: number }> {
  const { rows } = await app.pool.query<{ rows: number; total: number }>(
    'select count(*)::int as rows, coalesce(sum(count), 0)::int as total from rejected_request where remote_address = any($1)', [addresses]);
  return rows[0]!;
}

describe('a flood of refusals', () => {
  it('leaves a few aggregated rows with exact counts, and every signed ingest during it is accepted', async () => {
    const unsignedFrom = '203.0.113.1';
    const unknownFrom = '203.0.113.2';
    const methodFrom = '203.0.113.3';
    const hostile: (() => Promise<Sent>)[] = [];
    for (let i = 0; i < 1000; i++) hostile.push(() => send('/ingest/gh', unsignedFrom, { body: '{}', headers: { 'x-github-event': 'push' } }));
    for (let i = 0; i < 1000; i++) hostile.push(() => send(`/ingest/nope-${i}`, unknownFrom, { body: '{}' }));
    for (let i = 0; i < 500; i++) hostile.push(() => send('/ingest/gh', methodFrom, { method: i % 2 ? 'GET' : 'DELETE' }));
    for (let i = 0; i < 500; i++) hostile.push(() => send(`/ingest/Bad_Slug.${'x'.repeat(i % 300)}`, methodFrom, { body: '{}' }));
    hostile.sort(() => Math.random() - 0.5);
    const legit = Array.from({ length: 40 }, (_, i) => () => signed('gh', '198.51.100.7', `{"legit":${i}}`));

    const [hostileAnswers, legitAnswers] = await Promise.all([pooled(40, hostile), pooled(2, legit)]);
    expect(legitAnswers.map((a) => a.status)).toEqual(legit.map(() => 200));
    expect(new Set(hostileAnswers.map((a) => a.status))).toEqual(new Set([401, 404, 405, 429]));
    expect(hostileAnswers.some((a) => a.status >= 500)).toBe(false);

    // Every refusal counted, in one row per (source or unknown slug, reason, address, minute):
    // at most two reasons per address, over at most two minutes.
    const addresses = [unsignedFrom, unknownFrom, methodFrom];
    await expect.poll(async () => (await logged(addresses)).total, { timeout: 15_000 }).toBe(3000);
    expect((await logged(addresses)).rows).toBeLessThanOrEqual(12);
    const { rows } = await app.pool.query<{ reason: string; slug: string; source_id: string | null; remote_address: string; n: number }>(
      'select reason, slug, source_id, remote_address, sum(count)::int as n from rejected_request where remote_address = any($1) group by 1, 2, 3, 4', [addresses]);
    const byAddress = (address: string) => rows.filter((r) => r.remote_address === address);
    expect(byAddress(unsignedFrom).every((r) => r.slug === 'gh' && r.source_id !== null)).toBe(true);
    expect(byAddress(unsignedFrom).reduce((n, r) => n + r.n, 0)).toBe(1000);
    // Unknown slugs share a bucket that keeps a sample slug.
    expect(byAddress(unknownFrom).every((r) => r.source_id === null && /^nope-\d+$/.test(r.slug))).toBe(true);
    expect(byAddress(methodFrom).filter((r) => r.reason === 'METHOD_NOT_ALLOWED').reduce((n, r) => n + r.n, 0)).toBe(500);
    expect(byAddress(methodFrom).filter((r) => r.reason === 'SOURCE_NOT_FOUND').reduce((n, r) => n + r.n, 0)).toBe(500);
  });

  it('shows the count through rejectedRequests', async () => {
    for (let i = 0; i < 3; i++) expect((await send('/ingest/gh', '192.0.2.77', { body: '{}', headers: { 'x-github-event': 'push' } })).status).toBe(401);
    await expect.poll(async () => (await logged(['192.0.2.77'])).total, { timeout: 10_000 }).toBe(3);
    const result = await execute(app.url, RejectedRequestsDocument, { first: 50 }, TEST_ADMIN_TOKEN);
    const node = result.data!.rejectedRequests.edges.map((e) => e.node).find((n) => n.remoteAddress === '192.0.2.77');
    expect(node).toMatchObject({ reason: 'MISSING_SIGNATURE', slug: 'gh', count: 3 });
  });
});

describe('the provider is never locked out', () => {
  it('accepts every signed request from one address during an unsigned flood from another', async () => {
    const flood = Array.from({ length: 600 }, () => () => send('/ingest/limited', '203.0.113.9', { body: '{}', headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } }));
    const provider = Array.from({ length: 20 }, (_, i) => () => signed('limited', '198.51.100.8', `{"provider":${i}}`));
    const [floodAnswers, providerAnswers] = await Promise.all([pooled(30, flood), pooled(1, provider)]);
    expect(providerAnswers.map((a) => a.status)).toEqual(provider.map(() => 200));
    // The flooding address itself is slowed down: 429 once it has failed too often.
    expect(new Set(floodAnswers.map((a) => a.status))).toEqual(new Set([401, 429]));
    const limited = floodAnswers.find((a) => a.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('allowedCidrs', () => {
  it('answers 403 to an address outside the list and accepts one inside', async () => {
    const outside = await signed('fenced', '203.0.113.50', '{"a":1}');
    expect(outside.status).toBe(403);
    expect(outside.body.error?.code).toBe('ADDRESS_NOT_ALLOWED');
    expect((await signed('fenced', '198.51.100.200', '{"a":2}')).status).toBe(200);
    expect((await signed('fenced', '2001:db8:1::5', '{"a":3}')).status).toBe(200);
  });

  it('is validated on create and update, naming the field', async () => {
    const bad = await execute(app.url, CreateSourceDocument, { input: { name: 'x', slug: 'cidr-bad', preset: 'GITHUB', secret: 's', allowedCidrs: ['10.0.0.0/33'] } }, TEST_ADMIN_TOKEN);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('allowedCidrs');
    const good = await execute(app.url, CreateSourceDocument, { input: { name: 'x', slug: 'cidr-good', preset: 'GITHUB', secret: 's', allowedCidrs: ['10.0.0.0/8', '192.0.2.1'], dedupeWindowSeconds: 60 } }, TEST_ADMIN_TOKEN);
    expect(good.data?.createSource).toMatchObject({ allowedCidrs: ['10.0.0.0/8', '192.0.2.1'], dedupeWindowSeconds: 60 });
    const update = await execute(app.url, UpdateSourceDocument, { id: good.data!.createSource.id, input: { allowedCidrs: ['nonsense'] } }, TEST_ADMIN_TOKEN);
    expect(update.errors?.[0]?.message).toContain('allowedCidrs');
    const window = await execute(app.url, UpdateSourceDocument, { id: good.data!.createSource.id, input: { dedupeWindowSeconds: 0 } }, TEST_ADMIN_TOKEN);
    expect(window.errors?.[0]?.message).toContain('dedupeWindowSeconds');
    const cleared = await execute(app.url, UpdateSourceDocument, { id: good.data!.createSource.id, input: { allowedCidrs: null, dedupeWindowSeconds: null } }, TEST_ADMIN_TOKEN);
    expect(cleared.data?.updateSource).toMatchObject({ allowedCidrs: null, dedupeWindowSeconds: null });
  });
});

describe('replays without a timestamp', () => {
  it('answers a body seen within the dedupe window as a duplicate of the first event, even with a new delivery id', async () => {
    const first = await signed('deduped', '198.51.100.9', '{"replayed":true}');
    const replay = await signed('deduped', '198.51.100.9', '{"replayed":true}');
    expect(first.body.status).toBe('accepted');
    expect(replay.body).toEqual({ id: first.body.id, status: 'duplicate' });
    expect((await signed('deduped', '198.51.100.9', '{"replayed":false}')).body.status).toBe('accepted');
    // Off by default: the same body twice is two events.
    const a = await signed('gh', '198.51.100.9', '{"same":1}');
    const b = await signed('gh', '198.51.100.9', '{"same":1}');
    expect(b.body.status).toBe('accepted');
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('catches concurrent replays of one body too', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => signed('deduped', '198.51.100.9', '{"burst":1}')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.status === 'accepted')).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  });

  it('hashes idempotency keys longer than the stored limit instead of cutting them', async () => {
    const prefix = 'k'.repeat(500);
    const one = await signed('gh', '198.51.100.9', '{"long":1}', `${prefix}-one`);
    const two = await signed('gh', '198.51.100.9', '{"long":2}', `${prefix}-two`);
    expect(two.body.status).toBe('accepted');
    expect(two.body.id).not.toBe(one.body.id);
    expect((await signed('gh', '198.51.100.9', '{"long":1}', `${prefix}-one`)).body).toEqual({ id: one.body.id, status: 'duplicate' });
    const { rows } = await app.pool.query<{ idempotency_key: string }>('select idempotency_key from event where id = $1', [one.body.id]);
    expect(rows[0]!.idempotency_key).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

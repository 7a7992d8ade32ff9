import { request } from 'node:http';
import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { startSink } from '../helpers/sink.js';

let app: App;
const SECRET = 'gh-rejections-secret';

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  const fx = fixtures(app.orm, app.keyring);
  const source = await fx.source({ slug: 'gh', preset: 'GITHUB', secret: SECRET, maxBodyBytes: 64 * 1024 });
  const sink = await startSink();
  const { relay } = await fx.relay({ url: sink.url });
  await fx.subscription({ relay, sourceIds: [source.id] });
});

interface Counts {
  events: number;
  deliveries: number;
  jobs: number;
  rejected: number;
}

/** `rejected` counts the refusals of one reason (another test's may still be on their way to the log). */
async function counts(reason: string): Promise<Counts> {
  const { rows } = await app.pool.query<Record<keyof Counts, string>>(`select
    (select count(*) from event) as events,
    (select count(*) from delivery) as deliveries,
    (select count(*) from pgboss.job) as jobs,
    (select coalesce(sum(count), 0) from rejected_request where reason = $1) as rejected`, [reason]);
  const row = rows[0]!;
  return { events: Number(row.events), deliveries: Number(row.deliveries), jobs: Number(row.jobs), rejected: Number(row.rejected) };
}

async function post(slug: string, body: string | Buffer, headers: Record<string, string>) {
  const response = await fetch(`${app.url}/ingest/${slug}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as { id?: string; status?: string; error?: { code: string; message: string } } };
}

async function signedHeaders(body: string, extra: Record<string, string> = {}) {
  return { 'x-github-event': 'issues', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await sign(SECRET, body), ...extra };
}

/** The aggregated row of this reason (refusals are counted per source or slug, reason, address and minute). */
async function lastRejection(reason?: string) {
  const { rows } = await app.pool.query('select * from rejected_request where reason = coalesce($1, reason) order by received_at desc, id desc limit 1', [reason ?? null]);
  return rows[0] as { reason: string; slug: string; source_id: string | null; body_bytes: string | null; remote_address: string; status: number; message: string };
}

describe('ingest refusals change nothing but the rejected-request log', () => {
  it.each([
    ['a wrong signature', async (body: string) => signedHeaders(body, { 'x-hub-signature-256': await sign('not-the-secret', body) }), 401, 'INVALID_SIGNATURE'],
    ['a malformed signature header (uppercase hex)', async (body: string) => signedHeaders(body, { 'x-hub-signature-256': (await sign(SECRET, body)).toUpperCase() }), 401, 'MALFORMED_SIGNATURE'],
    ['a malformed signature header (sha1)', async (body: string) => signedHeaders(body, { 'x-hub-signature-256': 'sha1=0123456789abcdef0123456789abcdef01234567' }), 401, 'MALFORMED_SIGNATURE'],
    ['no signature header', async (body: string) => { const h = await signedHeaders(body); delete (h as Record<string, string>)['x-hub-signature-256']; return h; }, 401, 'MISSING_SIGNATURE'],
    ['a missing X-GitHub-Event', async (body: string) => { const h = await signedHeaders(body); delete (h as Record<string, string>)['x-github-event']; return h; }, 400, 'MISSING_HEADER'],
  ])('%s', async (_name, headers, status, code) => {
    const body = '{"action":"opened"}';
    const before = await counts(code);
    const response = await post('gh', body, await headers(body));
    expect(response.status).toBe(status);
    expect(response.body.error?.code).toBe(code);
    expect(response.body.error?.message).toEqual(expect.any(String));
    await expect.poll(() => counts(code), { timeout: 10_000 }).toEqual({ ...before, rejected: before.rejected + 1 });
    const row = await lastRejection(code);
    expect(row.reason).toBe(code);
    expect(row.status).toBe(status);
    expect(row.slug).toBe('gh');
    expect(row.source_id).not.toBeNull();
    expect(Number(row.body_bytes)).toBe(Buffer.byteLength(body));
    expect(row.remote_address).toMatch(/127\.0\.0\.1/);
    // Never the body or the signature.
    expect(JSON.stringify(row)).not.toContain('opened');
    expect(JSON.stringify(row)).not.toMatch(/[0-9a-fA-F]{40}/);
  });

  it('names the missing header', async () => {
    const body = '{}';
    const h = await signedHeaders(body);
    delete (h as Record<string, string>)['x-github-event'];
    const response = await post('gh', body, h);
    expect(response.body.error?.message).toContain('x-github-event');
  });

  it('answers 404 for an unknown slug and counts its refusals in one row per address', async () => {
    const before = await counts('SOURCE_NOT_FOUND');
    const body = '{}';
    const first = await post('no-such-source', body, await signedHeaders(body));
    expect(first.status).toBe(404);
    expect(first.body.error?.code).toBe('SOURCE_NOT_FOUND');
    for (let i = 0; i < 5; i++) expect((await post('no-such-source', body, await signedHeaders(body))).status).toBe(404);
    await expect.poll(() => counts('SOURCE_NOT_FOUND'), { timeout: 10_000 }).toEqual({ ...before, rejected: before.rejected + 6 });
    const row = await lastRejection('SOURCE_NOT_FOUND');
    expect(Number((row as { count?: number }).count)).toBe(6);
    expect(row.source_id).toBeNull();
    expect(row.slug).toBe('no-such-source');
  });

  it('answers 413 for a body over the limit without reading it all', async () => {
    const before = await counts('PAYLOAD_TOO_LARGE');
    // Declared length over the limit: refused on the header alone.
    const big = Buffer.alloc(200 * 1024, 'a');
    const declared = await post('gh', big, await signedHeaders('x'));
    expect(declared.status).toBe(413);
    expect(declared.body.error?.code).toBe('PAYLOAD_TOO_LARGE');

    // Chunked, no declared length: refused once the stream passes the limit, then the
    // connection is closed while the client is still sending.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${app.url}/ingest/gh`, { method: 'POST', headers: { 'x-github-event': 'issues', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'transfer-encoding': 'chunked' } }, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += 16 * 1024;
          if (!req.write(Buffer.alloc(16 * 1024, 'b'))) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    await expect.poll(() => counts('PAYLOAD_TOO_LARGE'), { timeout: 10_000 }).toEqual({ ...before, rejected: before.rejected + 2 });
    expect((await lastRejection('PAYLOAD_TOO_LARGE')).reason).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts a repeated X-GitHub-Delivery once and answers the first event id', async () => {
    const body = '{"action":"closed"}';
    const headers = await signedHeaders(body, { 'x-github-delivery': 'same-delivery-id' });
    const first = await post('gh', body, headers);
    expect(first).toEqual({ status: 200, body: { id: expect.any(String), status: 'accepted' } });
    const before = await counts('INVALID_SIGNATURE');
    const again = await post('gh', body, headers);
    expect(again).toEqual({ status: 200, body: { id: first.body.id, status: 'duplicate' } });
    expect(await counts('INVALID_SIGNATURE')).toEqual(before);
  });

  it('refuses a bad signature even when its idempotency key was seen', async () => {
    const body = '{"action":"reopened"}';
    const headers = await signedHeaders(body, { 'x-github-delivery': 'seen-then-forged' });
    expect((await post('gh', body, headers)).status).toBe(200);
    const forged = await post('gh', body, { ...headers, 'x-hub-signature-256': await sign('forger', body) });
    expect(forged.status).toBe(401);
  });

  it('answers 405 to methods other than POST', async () => {
    const response = await fetch(`${app.url}/ingest/gh`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  const fx = fixtures(app.orm, app.keyring);
  await fx.source({ slug: 'limited', preset: 'GITHUB', secret: 's', maxBodyBytes: 1024 * 1024 });
  await fx.source({ slug: 'throttled', preset: 'GITHUB', secret: 's', rateLimitPerSecond: 5 });
});

async function github(url: string, body = '{"a":1}') {
  return fetch(url, { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': await sign('s', body) }, body });
}

/** Streams `total` bytes of chunked body, reusing one buffer; resolves with the status (or 0 if the socket was cut first). */
function streamBody(url: string, total: number): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const req = request(url, { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'transfer-encoding': 'chunked' } }, (res) => {
      resolve(res.statusCode ?? 0);
      // The answer is in: stop sending, as a real client would.
      req.destroy();
    });
    req.on('error', () => resolve(0));
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('body limit', () => {
  it('refuses a 50 MiB body with 413 while memory stays flat', async () => {
    globalThis.gc?.();
    const before = process.memoryUsage();
    const statuses = await Promise.all([1, 2, 3].map(() => streamBody(`${app.url}/ingest/limited`, 50 * 1024 * 1024)));
    const after = process.memoryUsage();
    expect(statuses).toEqual([413, 413, 413]);
    // Three concurrent 50 MiB bodies: had they been buffered, 150 MiB would show up here.
    const grownMiB = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1024 / 1024;
    expect(grownMiB).toBeLessThan(20);
    const refused = async () => (await app.pool.query(`select coalesce(sum(count), 0)::int as n, max(body_bytes)::int as seen from rejected_request where slug = 'limited' and reason = 'PAYLOAD_TOO_LARGE'`)).rows[0];
    await expect.poll(async () => (await refused()).n, { timeout: 10_000 }).toBe(3);
    const rows = [await refused()];
    // Reading stopped at the limit, not at the end of the body.
    expect(rows[0].seen === null || rows[0].seen < 2 * 1024 * 1024).toBe(true);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the source\'s rate, then admits again', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const response = await github(`${app.url}/ingest/throttled`, `{"i":${i}}`);
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(10);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const start = Date.now();
    let status = 429;
    while (status === 429 && Date.now() - start < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await github(`${app.url}/ingest/throttled`, '{"later":true}')).status;
    }
    expect(status).toBe(200);
  });

  it('leaves sources without a rate unlimited', async () => {
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => github(`${app.url}/ingest/limited`, `{"u":${i}}`).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe('database outage', () => {
  let cluster: EmbeddedPostgres | undefined;
  let stateDir: string;

  afterAll(async () => {
    await cluster?.stop();
    if (cluster) await rm(cluster.clusterDir, { recursive: true, force: true });
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After within 5 s while PostgreSQL is down, and 200 once it is back', async () => {
    // A cluster of this test's own, whatever DATABASE_URL says: this test stops it.
    stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-outage-'));
    cluster = await startEmbeddedPostgres({ stateDir, settings: { fsync: 'off' } });
    await ensureDatabase(cluster.adminUrl, 'hookyard');
    const outageApp = await startTestApp(cluster.url, { HOOKYARD_ROLE: 'api' });
    await fixtures(outageApp.orm, outageApp.keyring).source({ slug: 'outage', preset: 'GITHUB', secret: 's' });
    expect((await github(`${outageApp.url}/ingest/outage`)).status).toBe(200);

    await cluster.stop();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const response = await github(`${outageApp.url}/ingest/outage`, `{"down":${i}}`);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
    }

    cluster = await startEmbeddedPostgres({ stateDir, settings: { fsync: 'off' } });
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await github(`${outageApp.url}/ingest/outage`, '{"back":true}')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
    await outageApp.stop();
  });
});

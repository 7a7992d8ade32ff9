import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateSourceDocument, EventsDocument, RejectedRequestsDocument, type EventsQuery } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute, type GraphQLResult } from '../helpers/graphql.js';

let app: App;
let sourceId: string;
let otherSourceId: string;

beforeAll(async () => {
  // Loopback trusted: refusals can come from several client addresses (X-Forwarded-For).
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api', HOOKYARD_TRUSTED_PROXIES: 'loopback' });
  const created = await execute(app.url, CreateSourceDocument, { input: { name: 'pages', slug: 'pages', preset: 'HMAC', secret: 'k', eventTypeFrom: 'json:$.type' } }, TEST_ADMIN_TOKEN);
  sourceId = created.data!.createSource.id;
  const other = await execute(app.url, CreateSourceDocument, { input: { name: 'other', slug: 'other', preset: 'HMAC', secret: 'k' } }, TEST_ADMIN_TOKEN);
  otherSourceId = other.data!.createSource.id;
});

async function ingest(slug: string, n: number): Promise<string> {
  const body = JSON.stringify({ type: `page.${n % 3}`, n });
  const response = await fetch(`${app.url}/ingest/${slug}`, { method: 'POST', headers: { 'x-signature': createHmac('sha256', 'k').update(body).digest('hex') }, body });
  return ((await response.json()) as { id: string }).id;
}

async function ingestMany(slug: string, count: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    ids.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => ingest(slug, offset + i + j)))));
  }
  return ids;
}

describe('keyset pagination', () => {
  it('walks 250 events in pages of 20 while new ones arrive: no gap, no repeat, newest first', async () => {
    const original = new Set(await ingestMany('pages', 250));
    expect(original.size).toBe(250);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      // Annotated: `after` is read here and assigned below, too circular for inference.
      const result: GraphQLResult<EventsQuery> = await execute(app.url, EventsDocument, { filter: { sourceId }, first: 20, after }, TEST_ADMIN_TOKEN);
      expect(result.errors).toBeUndefined();
      const { edges, pageInfo } = result.data!.events;
      seen.push(...edges.map((e) => e.node.id));
      pages++;
      // Newer events arrive between pages, for this source and another.
      await ingestMany('pages', 3, 1000 + pages * 3);
      await ingestMany('other', 1);
      if (!pageInfo.hasNextPage) break;
      expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
      after = pageInfo.endCursor;
    }
    expect(pages).toBe(13);
    expect(seen).toHaveLength(250);
    expect(new Set(seen)).toEqual(original);
  });

  it('orders newest first and filters by source, type and time', async () => {
    const first = await execute(app.url, EventsDocument, { first: 5 }, TEST_ADMIN_TOKEN);
    const times = first.data!.events.edges.map((e) => Date.parse(e.node.receivedAt as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const other = await execute(app.url, EventsDocument, { filter: { sourceId: otherSourceId }, first: 100 }, TEST_ADMIN_TOKEN);
    expect(other.data!.events.edges.every((e) => e.node.source?.id === otherSourceId)).toBe(true);
    expect(other.data!.events.edges.length).toBeGreaterThan(0);

    const typed = await execute(app.url, EventsDocument, { filter: { type: 'page.1', sourceId }, first: 100 }, TEST_ADMIN_TOKEN);
    expect(typed.data!.events.edges.length).toBeGreaterThan(0);
    expect(typed.data!.events.edges.every((e) => e.node.type === 'page.1')).toBe(true);

    const future = await execute(app.url, EventsDocument, { filter: { receivedAfter: new Date(Date.now() + 60_000).toISOString() } }, TEST_ADMIN_TOKEN);
    expect(future.data!.events.edges).toEqual([]);
    expect(future.data!.events.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('refuses first over 100 and cursors it did not issue, naming the argument', async () => {
    const tooMany = await execute(app.url, EventsDocument, { first: 101 }, TEST_ADMIN_TOKEN);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const forged = await execute(app.url, EventsDocument, { after: 'bm90IGEgY3Vyc29y' }, TEST_ADMIN_TOKEN);
    expect(forged.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('pages the rejected-request log too', async () => {
    // Refusals are aggregated per (source, reason, address, minute): three addresses, three rows.
    for (let i = 0; i < 3; i++) {
      await fetch(`${app.url}/ingest/pages`, { method: 'POST', headers: { 'x-signature': 'f'.repeat(64), 'x-forwarded-for': `192.0.2.${i + 1}` }, body: '{}' });
    }
    await expect.poll(async () => (await app.pool.query(`select count(*)::int as n from rejected_request where reason = 'INVALID_SIGNATURE'`)).rows[0].n, { timeout: 10_000 }).toBe(3);
    const result = await execute(app.url, RejectedRequestsDocument, { filter: { sourceId, reason: 'INVALID_SIGNATURE' }, first: 2 }, TEST_ADMIN_TOKEN);
    expect(result.data!.rejectedRequests.edges).toHaveLength(2);
    expect(result.data!.rejectedRequests.pageInfo.hasNextPage).toBe(true);
    expect(result.data!.rejectedRequests.edges[0]!.node).toMatchObject({ slug: 'pages', status: 401, bodyBytes: 2 });
  });
});

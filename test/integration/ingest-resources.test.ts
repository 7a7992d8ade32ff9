import { connect, type Socket } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import pg from 'pg';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';

/** What one sender can hold of the server: body bytes, time, connections, cache keys, queue slots. */
let app: App;
let databaseUrl: string;
const SECRET = 'resources-secret';

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl, {
    HOOKYARD_ROLE: 'api',
    HOOKYARD_INGEST_INFLIGHT_BYTES: String(1024 * 1024),
    HOOKYARD_HTTP_HEADERS_TIMEOUT_MS: '1000',
    HOOKYARD_HTTP_REQUEST_TIMEOUT_MS: '2000',
    HOOKYARD_INGEST_COMMIT_TIMEOUT_MS: '1000',
    HOOKYARD_INGEST_ACCEPT_QUEUE: '4',
  });
  await fixtures(app.orm, app.keyring).source({ slug: 'gh', preset: 'GITHUB', secret: SECRET, maxBodyBytes: 2 * 1024 * 1024 });
});

async function post(body: string | Buffer, headers: Record<string, string> = {}, delivery: string = crypto.randomUUID()) {
  const response = await fetch(`${app.url}/ingest/gh`, {
    method: 'POST',
    headers: { 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': await sign(SECRET, body.toString()), ...headers },
    body,
  });
  const answer = (await response.json()) as { id?: string; status?: string; error?: { code: string } };
  return { status: response.status, answer, retryAfter: response.headers.get('retry-after') };
}

/** A raw socket; resolves with everything the server sent once it closes the connection. */
function rawSocket(port: number): { socket: Socket; closed: Promise<string>; received(): string } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  socket.on('error', () => {});
  return { socket, closed, received: () => received };
}

describe('compressed bodies', () => {
  it('refuses a Content-Encoding other than identity with 415', async () => {
    const refused = await post('{"zipped":true}', { 'content-encoding': 'gzip' });
    expect(refused.status).toBe(415);
    expect(refused.answer.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await post('{"plain":true}', { 'content-encoding': 'identity' })).status).toBe(200);
  });
});

describe('the in-flight body budget', () => {
  it('answers 503 with Retry-After while bodies being received fill it, and admits again once they are gone', async () => {
    // A sender that declares 700 KiB and stalls holds that much of the 1 MiB budget.
    const stall = () => {
      const held = rawSocket(app.port);
      held.socket.write(`POST /ingest/gh HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: ${700 * 1024}\r\n\r\n{`);
      return held;
    };
    let stalled = stall();
    const body = `{"pad":"${'p'.repeat(600 * 1024)}"}`;
    let busy: Awaited<ReturnType<typeof post>> | undefined;
    await expect.poll(async () => {
      busy = await post(body);
      // Had this request's body been reserved first, the stalled one was refused: stall again.
      if (stalled.received() !== '') {
        stalled.socket.destroy();
        stalled = stall();
      }
      return busy.status;
    }, { timeout: 10_000 }).toBe(503);
    expect(busy!.answer.error?.code).toBe('INGEST_BUSY');
    expect(Number(busy!.retryAfter)).toBeGreaterThanOrEqual(1);
    stalled.socket.destroy();
    await expect.poll(async () => (await post(body)).status, { timeout: 10_000 }).toBe(200);
    // Not a refusal of the sender: nothing logged.
    const { rows } = await app.pool.query(`select 1 from rejected_request where reason = 'INGEST_BUSY'`);
    expect(rows).toHaveLength(0);
  });
});

describe('timeouts', () => {
  it('closes a connection whose headers never finish', async () => {
    const { socket, closed } = rawSocket(app.port);
    socket.write('POST /ingest/gh HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(await closed).toMatch(/^HTTP\/1\.1 408|^$/);
  }, 15_000);

  it('closes a request whose body never finishes', async () => {
    const { socket, closed } = rawSocket(app.port);
    socket.write('POST /ingest/gh HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 100\r\n\r\n{"a":');
    const received = await closed;
    expect(received).not.toMatch(/^HTTP\/1\.1 [25]/);
  }, 15_000);
});

describe('slugs', () => {
  it('refuses a malformed slug or another method before any database look-up', async () => {
    const query = vi.spyOn(app.pool, 'query');
    try {
      const long = await fetch(`${app.url}/ingest/${'a'.repeat(8 * 1024)}`, { method: 'POST', body: '{}' });
      expect(long.status).toBe(404);
      for (const slug of ['UPPER', '-dash', 'a_b', 'dot.ted', '%E2%9C%93']) expect((await fetch(`${app.url}/ingest/${slug}`, { method: 'POST', body: '{}' })).status).toBe(404);
      const get = await fetch(`${app.url}/ingest/some-source`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      const lookups = query.mock.calls.filter(([text]) => typeof text === 'string' && /from source/.test(text));
      expect(lookups).toHaveLength(0);
    } finally {
      query.mockRestore();
    }
  });
});

describe('the accept queue', () => {
  it('answers 503 to what it cannot commit in time, and what it answered 503 is never stored', async () => {
    // Make the database slow: a lock on the event table holds every insert.
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table event in access exclusive mode');
    const keys = Array.from({ length: 20 }, (_, i) => `queued-${i}-${crypto.randomUUID()}`);
    let answers: Awaited<ReturnType<typeof post>>[];
    try {
      answers = await Promise.all(keys.map((key, i) => post(`{"queued":${i}}`, {}, key)));
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect(answers.every((a) => a.status === 503 && a.answer.error?.code === 'INGEST_BUSY' && Number(a.retryAfter) >= 1)).toBe(true);
    // Whatever was still waiting has had its chance to commit once this one has.
    expect((await post('{"after":true}')).status).toBe(200);
    const { rows } = await app.pool.query<{ n: number }>('select count(*)::int as n from event where idempotency_key = any($1)', [keys]);
    expect(rows[0]!.n).toBe(0);
  }, 30_000);
});

describe('the connection cap', () => {
  it('refuses connections past HOOKYARD_HTTP_MAX_CONNECTIONS and takes new ones once others close', async () => {
    const capped = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api', HOOKYARD_HTTP_MAX_CONNECTIONS: '3' });
    const open: { socket: Socket; closed: Promise<string> }[] = [];
    for (let i = 0; i < 3; i++) {
      // Each answered once on a kept-alive connection: the server holds all three.
      const held = rawSocket(capped.port);
      const answered = new Promise((resolve) => held.socket.once('data', resolve));
      held.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered;
      open.push(held);
    }
    const extra = rawSocket(capped.port);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBe('');
    open.shift()!.socket.destroy();
    await expect.poll(async () => (await fetch(`${capped.url}/healthz`).catch(() => undefined))?.status, { timeout: 10_000 }).toBe(200);
    for (const held of open) held.socket.destroy();
    await capped.stop();
  }, 30_000);
});

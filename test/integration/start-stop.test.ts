import { connect } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { spawnHookyard, type HookyardProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/sink.js';

let databaseUrl: string;
let app: App;
const spawned: HookyardProcess[] = [];
const SECRET = 'start-stop-secret';
const SHUTDOWN_SECONDS = 8;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api' });
  await fixtures(app.orm, app.keyring).source({ slug: 'rolling', preset: 'GITHUB', secret: SECRET });
});

afterAll(() => {
  for (const proc of spawned) proc.kill9();
});

function spawnApi(waitForReady: boolean): Promise<HookyardProcess> {
  return spawnHookyard({
    DATABASE_URL: databaseUrl, HOOKYARD_ROLE: 'api', HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    HOOKYARD_SHUTDOWN_SECONDS: String(SHUTDOWN_SECONDS), LOG_LEVEL: 'warn',
  }, { waitForReady }).then((proc) => (spawned.push(proc), proc));
}

interface Answer {
  deliveryId: string;
  status?: number;
  retryAfter?: string | null;
  connection?: string | null;
  body?: string;
  /** The connection failed: its error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...). */
  error?: string;
}

const BODY = '{"zen":"Keep it logically awesome."}';
let signature: string;

/** One signed GitHub webhook with a fresh delivery id (its idempotency key). */
async function deliver(url: string): Promise<Answer> {
  signature ??= await sign(SECRET, BODY);
  const deliveryId = crypto.randomUUID();
  try {
    const response = await fetch(`${url}/ingest/rolling`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': deliveryId, 'x-hub-signature-256': signature },
      body: BODY,
    });
    return { deliveryId, status: response.status, retryAfter: response.headers.get('retry-after'), connection: response.headers.get('connection'), body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { deliveryId, error: cause?.code ?? String(error) };
  }
}

/** Senders in a tight loop until `done(answers)`; a refused connection is tried again a moment later. */
async function hammer(url: string, senders: number, done: (answers: Answer[]) => boolean): Promise<Answer[]> {
  const answers: Answer[] = [];
  await Promise.all(Array.from({ length: senders }, async () => {
    while (!done(answers)) {
      const answer = await deliver(url);
      answers.push(answer);
      if (answer.error) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }));
  return answers;
}

/** The status line a websocket upgrade of /graphql gets ('' if the socket closed with none), or the connection error. */
function upgradeStatus(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write([
      'GET /graphql HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: graphql-transport-ws', '', '',
    ].join('\r\n')));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n')) {
        resolve(answer.slice(0, answer.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('close', () => resolve(''));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

async function stored(deliveryIds: string[]): Promise<Set<string>> {
  const { rows } = await app.pool.query<{ key: string }>('select idempotency_key as key from event where idempotency_key = any($1)', [deliveryIds]);
  return new Set(rows.map((r) => r.key));
}

describe('starting', () => {
  it('answers 503 with Retry-After, never 404, to webhooks for an existing source until it is ready', async () => {
    const proc = await spawnApi(false);
    // From the first refused connection until a few webhooks have been accepted: the whole start.
    const started = Date.now();
    const done = (answers: Answer[]) => {
      if (proc.child.exitCode !== null) throw new Error(`exited:\n${proc.output()}`);
      if (Date.now() - started > 30_000) throw new Error(`not ready in time:\n${proc.output()}`);
      return answers.filter((a) => a.status === 200).length >= 12;
    };
    const upgrades: string[] = [];
    const port = Number(new URL(proc.url).port);
    const [all] = await Promise.all([
      hammer(proc.url, 5, done),
      (async () => {
        while (!upgrades.includes('HTTP/1.1 101 Switching Protocols')) {
          upgrades.push(await upgradeStatus(port));
          if (upgrades.at(-1) === 'ECONNREFUSED') await new Promise((resolve) => setTimeout(resolve, 2));
          done([]);
        }
      })(),
    ]);
    // Websockets too: refused with 503 until ready, never dropped with no answer.
    expect(new Set(upgrades.filter((s) => s !== 'ECONNREFUSED' && s !== 'HTTP/1.1 101 Switching Protocols'))).toEqual(new Set(['HTTP/1.1 503 Service Unavailable']));
    const answered = all.filter((a) => a.status !== undefined);
    const byStatus = Object.groupBy(answered, (a) => String(a.status));
    expect(Object.keys(byStatus).sort(), proc.output()).toEqual(expect.arrayContaining(['200']));
    expect(new Set(answered.filter((a) => a.status !== 200 && a.status !== 503).map((a) => `${a.status} ${a.body}`))).toEqual(new Set());
    expect(byStatus['503']?.length ?? 0, 'the start was seen while not ready').toBeGreaterThan(0);
    for (const a of byStatus['503'] ?? []) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(a.body!)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    // Only refused connections (before the port is bound): no reset, no request left unanswered.
    expect(new Set(all.filter((a) => a.error).map((a) => a.error))).toEqual(new Set(all.some((a) => a.error) ? ['ECONNREFUSED'] : []));
    expect((await stored((byStatus['503'] ?? []).map((a) => a.deliveryId))).size).toBe(0);
    expect(await proc.stop()).toBe(0);
  }, 60_000);
});

/** A signed webhook sent on a bare socket: headers and half the body now, the rest when `finish` is called. */
async function halfSent(port: number): Promise<{ deliveryId: string; finish(): Promise<string> }> {
  const deliveryId = crypto.randomUUID();
  const body = BODY;
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write([
    'POST /ingest/rolling HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`,
    'X-GitHub-Event: push', `X-GitHub-Delivery: ${deliveryId}`, `X-Hub-Signature-256: ${await sign(SECRET, body)}`, '', body.slice(0, 10),
  ].join('\r\n'));
  return {
    deliveryId,
    finish: async () => {
      socket.write(body.slice(10));
      // Keep-alive was asked for (HTTP/1.1): the server closes because it is stopping.
      return closed;
    },
  };
}

describe('stopping', () => {
  it('on SIGTERM under load answers what it received (200 and stored), refuses the rest (503 not stored, or no connection) and exits 0', async () => {
    const proc = await spawnApi(true);
    const port = Number(new URL(proc.url).port);
    let exitCode: number | null | undefined;
    void proc.exited.then((code) => (exitCode = code));
    const pending = await halfSent(port);
    let terminated = false;
    const hammering = hammer(proc.url, 8, (answers) => {
      if (!terminated && answers.filter((a) => a.status === 200).length >= 40) {
        terminated = true;
        process.kill(-proc.child.pid!, 'SIGTERM');
      }
      return exitCode !== undefined;
    });
    await waitUntil(() => (terminated ? true : undefined), 30_000, 'load before the SIGTERM');
    // Once new connections are refused, the half-received request is still served.
    await waitUntil(() => fetch(`${proc.url}/healthz`).then(() => undefined, (e: { cause?: { code?: string } }) => (e.cause?.code === 'ECONNREFUSED' ? true : undefined)), 10_000, 'the port to close');
    const answer = await pending.finish();
    const all = await hammering;
    expect(exitCode, proc.output()).toBe(0);

    // Every try was answered, or found the port closed, or (a connection the kernel had queued
    // when the listening socket closed, or an idle keep-alive one closed as the request went
    // out) was cut before the server read it: then nothing was stored, and the sender retries.
    const cut = all.filter((a) => a.error && a.error !== 'ECONNREFUSED');
    expect(new Set(cut.map((a) => a.error)).isSubsetOf(new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])), JSON.stringify(cut)).toBe(true);
    expect((await stored(cut.map((a) => a.deliveryId))).size).toBe(0);
    expect(new Set(all.filter((a) => a.status !== undefined).map((a) => a.status))).toEqual(new Set([200, 503].filter((s) => all.some((a) => a.status === s))));
    const ok = all.filter((a) => a.status === 200);
    const refused = all.filter((a) => a.status === 503);
    expect((await stored(ok.map((a) => a.deliveryId))).size).toBe(ok.length);
    expect((await stored(refused.map((a) => a.deliveryId))).size).toBe(0);
    for (const a of refused) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(a.connection).toBe('close');
    }
    // The request half-received at the SIGTERM was finished, answered and stored.
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect((await stored([pending.deliveryId])).size).toBe(1);
  }, 60_000);
});

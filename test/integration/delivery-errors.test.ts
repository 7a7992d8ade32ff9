import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Resolver } from '../../src/delivery/ssrf-guard.js';
import { CreateRelayDocument, CreateSubscriptionDocument, DeliveryDocument, PublishEventDocument, RelayDocument, UpdateRelayDocument, type CreateRelayInput } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

const PUBLIC_ADDRESS = '93.184.215.14';

/** Injected DNS: names in this map answer with their address, every other name is ENOTFOUND. */
const dnsAnswers = new Map<string, string>([['public.test', PUBLIC_ADDRESS], ['private.test', '10.1.2.3']]);
const resolve: Resolver = async (hostname) => {
  const address = dnsAnswers.get(hostname);
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  return [{ address, family: address.includes(':') ? 6 : 4 }];
};

/** The SSRF guard off (receivers on 127.0.0.1), and on. */
let open: App;
let guarded: App;

beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startTestApp(await createTestDatabase(), {}, { sender: { resolve } }),
    startTestApp(await createTestDatabase(), { HOOKYARD_ALLOW_PRIVATE_TARGETS: 'false' }, { sender: { resolve } }),
  ]);
});

// Every server a test starts is closed when the test ends, passed or failed.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function sinkAnswering(answer: Sink['answer']): Promise<Sink> {
  const sink = await startSink();
  sink.answer = answer;
  cleanups.push(() => sink.close());
  return sink;
}

async function listening<T extends HttpServer | NetServer>(server: T, sockets?: Set<Socket>): Promise<{ server: T; port: number }> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(() => new Promise((done) => {
    for (const socket of sockets ?? []) socket.destroy();
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(done);
  }));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

type RelaySettings = Omit<CreateRelayInput, 'name' | 'url'>;
let cases = 0;

/** A relay subscribed to an event type of its own, so each test drives exactly one delivery. */
async function relayFor(app: App, url: string, settings: RelaySettings = {}): Promise<{ relayId: string; eventType: string }> {
  const eventType = `errors.case${++cases}`;
  const created = await execute(app.url, CreateRelayDocument, { input: { name: eventType, url, ...settings } }, TEST_ADMIN_TOKEN);
  expect(created.errors).toBeUndefined();
  const relayId = created.data!.createRelay.relay.id;
  const subscribed = await execute(app.url, CreateSubscriptionDocument, { input: { relayId, eventTypes: [eventType] } }, TEST_ADMIN_TOKEN);
  expect(subscribed.errors).toBeUndefined();
  return { relayId, eventType };
}

async function publish(app: App, eventType: string): Promise<string> {
  const published = await execute(app.url, PublishEventDocument, { type: eventType, payload: { case: eventType } }, TEST_ADMIN_TOKEN);
  expect(published.errors).toBeUndefined();
  const { rows } = await app.pool.query<{ id: string }>('select id from delivery where event_id = $1', [published.data!.publishEvent.id]);
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

interface AttemptRow {
  number: number;
  /** started_at in ms since the epoch. */
  started_ms: number;
  error_class: string | null;
  error_message: string | null;
  response_status: number | null;
  response_body_excerpt: string | null;
}

/** Waits for the delivery to stop moving (SUCCEEDED or DEAD) and returns its attempts, oldest first. */
async function settled(app: App, deliveryId: string): Promise<{ status: string; attempts: AttemptRow[] }> {
  const status = await waitUntil(async () => {
    const { rows } = await app.pool.query<{ status: string }>('select status from delivery where id = $1', [deliveryId]);
    return rows[0]?.status === 'SUCCEEDED' || rows[0]?.status === 'DEAD' ? rows[0].status : undefined;
  }, 30_000, `delivery ${deliveryId} to succeed or die`);
  const { rows } = await app.pool.query<AttemptRow>(
    'select number, (extract(epoch from started_at) * 1000)::float8 as started_ms, error_class, error_message, response_status, response_body_excerpt from attempt where delivery_id = $1 order by number',
    [deliveryId],
  );
  return { status, attempts: rows };
}

/**
 * Publishes to a relay at `url` (retrySchedule [1] unless given) and expects the delivery DEAD
 * after every allowed try failed with `errorClass`, in the attempt table and through GraphQL.
 */
async function expectFailure(app: App, url: string, errorClass: string, settings: RelaySettings = {}): Promise<AttemptRow[]> {
  const schedule = settings.retrySchedule ?? [1];
  const { eventType } = await relayFor(app, url, { ...settings, retrySchedule: schedule });
  const deliveryId = await publish(app, eventType);
  const { status, attempts } = await settled(app, deliveryId);
  const tries = schedule.length + 1;
  expect(attempts.map((a) => a.error_class), attempts.map((a) => a.error_message).join(' | ')).toEqual(Array(tries).fill(errorClass));
  expect(status).toBe('DEAD');
  const viaApi = await execute(app.url, DeliveryDocument, { id: deliveryId }, TEST_ADMIN_TOKEN);
  expect(viaApi.data!.delivery!.status).toBe('DEAD');
  const nodes = viaApi.data!.delivery!.attempts.edges.map((e) => e.node).sort((a, b) => a.number - b.number);
  expect(nodes.map((n) => n.errorClass)).toEqual(Array(tries).fill(errorClass));
  return attempts;
}

const execFileAsync = promisify(execFile);

/** A self-signed certificate for CN=localhost, made now with the openssl CLI. */
async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookyard-tls-'));
  try {
    await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=localhost'], { cwd: dir });
    return { key: await readFile(path.join(dir, 'k.pem')), cert: await readFile(path.join(dir, 'c.pem')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('attempt error classes', () => {
  it('HTTP_STATUS: a 500 fails the attempt and is retried', async () => {
    const sink = await sinkAnswering(() => ({ status: 500, body: 'boom' }));
    const attempts = await expectFailure(open, `${sink.url}/status`, 'HTTP_STATUS');
    expect(attempts.map((a) => a.response_status)).toEqual([500, 500]);
    expect(attempts[0]!.response_body_excerpt).toBe('boom');
    expect(sink.received).toHaveLength(2);
  });

  it('REDIRECT: a 302 is not followed, its target receives nothing', async () => {
    const target = await sinkAnswering(() => ({ status: 200 }));
    const redirector = await sinkAnswering(() => ({ status: 302, headers: { location: `${target.url}/moved` } }));
    const attempts = await expectFailure(open, `${redirector.url}/old`, 'REDIRECT');
    expect(attempts.map((a) => a.response_status)).toEqual([302, 302]);
    expect(redirector.received).toHaveLength(2);
    expect(target.received).toHaveLength(0);
  });

  it('TIMEOUT: a receiver slower than timeoutMs', async () => {
    const sink = await sinkAnswering(() => ({ status: 200, delayMs: 3000 }));
    const attempts = await expectFailure(open, `${sink.url}/slow`, 'TIMEOUT', { timeoutMs: 300 });
    expect(attempts.every((a) => a.response_status === null)).toBe(true);
  });

  it('CONNECTION_REFUSED: nothing listens on the port', async () => {
    await expectFailure(open, `http://127.0.0.1:${await closedPort()}/`, 'CONNECTION_REFUSED');
  });

  it('CONNECTION_RESET: the receiver destroys the socket on the request', async () => {
    const { port } = await listening(createHttpServer((request) => request.socket.destroy()));
    await expectFailure(open, `http://127.0.0.1:${port}/`, 'CONNECTION_RESET');
  });

  it('DNS: a host the resolver does not know (ENOTFOUND)', async () => {
    await expectFailure(open, 'http://nx.test:9/', 'DNS');
  });

  it('TLS: a self-signed certificate is refused', async () => {
    let requests = 0;
    const { port } = await listening(createHttpsServer(await selfSignedCertificate(), (_request, response) => {
      requests++;
      response.end('ok');
    }));
    await expectFailure(open, `https://127.0.0.1:${port}/`, 'TLS');
    expect(requests).toBe(0);
  });

  it('RESPONSE_TOO_LARGE: response headers beyond 16 KiB', async () => {
    const sockets = new Set<Socket>();
    const raw = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(`HTTP/1.1 200 OK\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\nContent-Length: 0\r\n\r\n`));
    });
    const { port } = await listening(raw, sockets);
    await expectFailure(open, `http://127.0.0.1:${port}/`, 'RESPONSE_TOO_LARGE');
  });

  it('PROXY: the relay\'s proxyUrl does not answer', async () => {
    const sink = await sinkAnswering(() => ({ status: 200 }));
    await expectFailure(open, `${sink.url}/behind-proxy`, 'PROXY', { proxyUrl: `http://127.0.0.1:${await closedPort()}` });
    expect(sink.received).toHaveLength(0);
  });

  it('SSRF_BLOCKED: a host that rebinds to loopback after it was saved', async () => {
    const sink = await sinkAnswering(() => ({ status: 200 }));
    const port = new URL(sink.url).port;
    dnsAnswers.set('rebind.test', PUBLIC_ADDRESS);
    const { eventType } = await relayFor(guarded, `http://rebind.test:${port}/`, { retrySchedule: [1] });
    dnsAnswers.set('rebind.test', '127.0.0.1');
    const { status, attempts } = await settled(guarded, await publish(guarded, eventType));
    expect(status).toBe('DEAD');
    expect(attempts.map((a) => a.error_class)).toEqual(['SSRF_BLOCKED', 'SSRF_BLOCKED']);
    expect(attempts[0]!.error_message).toBe('rebind.test resolves to a loopback address');
    expect(sink.received).toHaveLength(0);
  });
});

describe('relay URLs with the SSRF guard on', () => {
  const refused = ['http://127.0.0.1/', 'http://10.0.0.1/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://private.test/'];

  it.each(refused)('createRelay refuses %s naming url', async (url) => {
    const result = await execute(guarded.url, CreateRelayDocument, { input: { name: 'internal', url } }, TEST_ADMIN_TOKEN);
    expect(result.data?.createRelay ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });

  it('updateRelay refuses the same URLs and keeps the saved one', async () => {
    const created = await execute(guarded.url, CreateRelayDocument, { input: { name: 'public', url: 'http://public.test/hook' } }, TEST_ADMIN_TOKEN);
    expect(created.errors).toBeUndefined();
    const id = created.data!.createRelay.relay.id;
    for (const url of refused) {
      const result = await execute(guarded.url, UpdateRelayDocument, { id, input: { url } }, TEST_ADMIN_TOKEN);
      expect(result.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    const saved = await execute(guarded.url, RelayDocument, { id }, TEST_ADMIN_TOKEN);
    expect(saved.data!.relay!.url).toBe('http://public.test/hook');
  });
});

describe('responses', () => {
  it('a 1 MiB body with 200 succeeds and keeps only the first 4 KiB as excerpt', async () => {
    // 8-byte numbered lines: the excerpt shows which part of the body it kept.
    const body = Array.from({ length: 128 * 1024 }, (_, i) => `${String(i).padStart(7, '0')}\n`).join('');
    expect(body.length).toBe(1024 * 1024);
    const sink = await sinkAnswering(() => ({ status: 200, body }));
    const { eventType } = await relayFor(open, `${sink.url}/big`, { retrySchedule: [1] });
    const { status, attempts } = await settled(open, await publish(open, eventType));
    expect(status).toBe('SUCCEEDED');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ error_class: null, response_status: 200 });
    expect(attempts[0]!.response_body_excerpt).toBe(body.slice(0, 4096));
  });

  it('429 with Retry-After: 2 waits at least 2 s although the schedule says 1 s', async () => {
    const sink = await sinkAnswering((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    const { eventType } = await relayFor(open, `${sink.url}/limited`, { retrySchedule: [1] });
    const { status, attempts } = await settled(open, await publish(open, eventType));
    expect(status).toBe('SUCCEEDED');
    expect(attempts.map((a) => [a.response_status, a.error_class])).toEqual([[429, 'HTTP_STATUS'], [200, null]]);
    const gapMs = attempts[1]!.started_ms - attempts[0]!.started_ms;
    // The hint wins over the 1 s step (0.8–1.2 s with jitter); a little slack for clocks.
    expect(gapMs).toBeGreaterThanOrEqual(1900);
    expect(sink.received[1]!.at - sink.received[0]!.at).toBeGreaterThanOrEqual(1900);
  });
});

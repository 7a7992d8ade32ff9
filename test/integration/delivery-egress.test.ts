import { createServer, request as httpRequest } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Resolver } from '../../src/delivery/ssrf-guard.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument, type CreateRelayInput } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/** A forward HTTP proxy: absolute-form requests for http targets, CONNECT tunnels for the rest. */
interface TestProxy {
  url: string;
  /** Absolute-form request targets, as received. */
  requests: string[];
  /** CONNECT authorities (host:port). */
  tunnels: string[];
  close(): Promise<void>;
}

async function startProxy(): Promise<TestProxy> {
  const requests: string[] = [];
  const tunnels: string[] = [];
  const tunnelSockets = new Set<Socket>();
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (!/^https?:\/\//.test(request.url ?? '')) {
      response.writeHead(400).end('a proxy wants absolute-form request targets');
      return;
    }
    const target = new URL(request.url!);
    const upstream = httpRequest(
      { hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '');
    const { hostname, port } = new URL(`http://${request.url ?? ''}`);
    const upstream = netConnect(Number(port || 443), hostname.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      tunnelSockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        tunnelSockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tunnels,
    close: () => new Promise((done) => {
      for (const socket of tunnelSockets) socket.destroy();
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

const PUBLIC_ADDRESS = '93.184.215.14';
const dnsAnswers = new Map<string, string>();
const resolve: Resolver = async (hostname) => {
  const address = dnsAnswers.get(hostname);
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  return [{ address, family: 4 }];
};

let globalProxy: TestProxy;
let bypassedProxy: TestProxy;
let guardProxy: TestProxy;
/** HOOKYARD_EGRESS_PROXY set; the same with NO_PROXY=127.0.0.1; and with the SSRF guard on. */
let proxied: App;
let bypassing: App;
let guarded: App;

beforeAll(async () => {
  [globalProxy, bypassedProxy, guardProxy] = await Promise.all([startProxy(), startProxy(), startProxy()]);
  [proxied, bypassing, guarded] = await Promise.all([
    startTestApp(await createTestDatabase(), { HOOKYARD_EGRESS_PROXY: globalProxy.url }),
    startTestApp(await createTestDatabase(), { HOOKYARD_EGRESS_PROXY: bypassedProxy.url, NO_PROXY: '127.0.0.1' }),
    startTestApp(await createTestDatabase(), { HOOKYARD_EGRESS_PROXY: guardProxy.url, HOOKYARD_ALLOW_PRIVATE_TARGETS: 'false' }, { sender: { resolve } }),
  ]);
});

afterAll(async () => {
  await Promise.all([globalProxy, bypassedProxy, guardProxy].map((proxy) => proxy?.close()));
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function sink(): Promise<Sink> {
  const started = await startSink();
  cleanups.push(() => started.close());
  return started;
}

let cases = 0;

/** A relay subscribed to an event type of its own, so each test drives exactly one delivery. */
async function relayFor(app: App, url: string, settings: Omit<CreateRelayInput, 'name' | 'url'> = {}): Promise<{ eventType: string; signingSecret: string }> {
  const eventType = `egress.case${++cases}`;
  const created = await execute(app.url, CreateRelayDocument, { input: { name: eventType, url, retrySchedule: [], ...settings } }, TEST_ADMIN_TOKEN);
  expect(created.errors).toBeUndefined();
  const relayId = created.data!.createRelay.relay.id;
  const subscribed = await execute(app.url, CreateSubscriptionDocument, { input: { relayId, eventTypes: [eventType] } }, TEST_ADMIN_TOKEN);
  expect(subscribed.errors).toBeUndefined();
  return { eventType, signingSecret: created.data!.createRelay.signingSecret };
}

/** Publishes one event and returns its id and the one delivery it made. */
async function publish(app: App, eventType: string): Promise<{ eventId: string; deliveryId: string }> {
  const published = await execute(app.url, PublishEventDocument, { type: eventType, payload: { case: eventType } }, TEST_ADMIN_TOKEN);
  expect(published.errors).toBeUndefined();
  const eventId = published.data!.publishEvent.id;
  const { rows } = await app.pool.query<{ id: string }>('select id from delivery where event_id = $1', [eventId]);
  expect(rows).toHaveLength(1);
  return { eventId, deliveryId: rows[0]!.id };
}

/** The delivery once SUCCEEDED or DEAD, with its attempts' error classes, oldest first. */
async function settled(app: App, deliveryId: string): Promise<{ status: string; errorClasses: (string | null)[]; messages: (string | null)[] }> {
  const status = await waitUntil(async () => {
    const { rows } = await app.pool.query<{ status: string }>('select status from delivery where id = $1', [deliveryId]);
    return rows[0]?.status === 'SUCCEEDED' || rows[0]?.status === 'DEAD' ? rows[0].status : undefined;
  }, 30_000, `delivery ${deliveryId} to succeed or die`);
  const { rows } = await app.pool.query<{ error_class: string | null; error_message: string | null }>(
    'select error_class, error_message from attempt where delivery_id = $1 order by number',
    [deliveryId],
  );
  return { status, errorClasses: rows.map((r) => r.error_class), messages: rows.map((r) => r.error_message) };
}

describe('egress proxy', () => {
  it('HOOKYARD_EGRESS_PROXY carries the delivery, signed, to the receiver', async () => {
    const receiver = await sink();
    const target = `${receiver.url}/through-proxy`;
    const { eventType, signingSecret } = await relayFor(proxied, target);
    const { eventId, deliveryId } = await publish(proxied, eventType);

    const [received] = await receiver.waitFor(1);
    expect(await settled(proxied, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(globalProxy.requests).toContain(target);
    expect(received!.url).toBe('/through-proxy');
    expect(received!.headers['webhook-id']).toBe(eventId);
    expect(received!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(received!.headers['webhook-signature']).toMatch(/^v1,/);
    const headers = Object.fromEntries(Object.entries(received!.headers).map(([name, value]) => [name, String(value)]));
    expect(() => new Webhook(signingSecret).verify(received!.body.toString(), headers)).not.toThrow();
    expect(JSON.parse(received!.body.toString())).toMatchObject({ type: eventType, data: { case: eventType } });
  });

  it('a host listed in NO_PROXY bypasses the proxy', async () => {
    const receiver = await sink();
    const { eventType } = await relayFor(bypassing, `${receiver.url}/direct`);
    const { eventId, deliveryId } = await publish(bypassing, eventType);

    const [received] = await receiver.waitFor(1);
    expect(await settled(bypassing, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(received!.headers['webhook-id']).toBe(eventId);
    expect(bypassedProxy.requests).toEqual([]);
    expect(bypassedProxy.tunnels).toEqual([]);
  });

  it('a relay\'s own proxyUrl is used instead of the global one', async () => {
    const own = await startProxy();
    cleanups.push(() => own.close());
    const receiver = await sink();
    const target = `${receiver.url}/own-proxy`;
    const { eventType } = await relayFor(proxied, target, { proxyUrl: own.url });
    const { deliveryId } = await publish(proxied, eventType);

    await receiver.waitFor(1);
    expect(await settled(proxied, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(own.requests).toEqual([target]);
    expect(globalProxy.requests).not.toContain(target);
  });
});

describe('egress proxy with the SSRF guard on', () => {
  it('a host that now resolves to a private address is blocked before the proxy is asked', async () => {
    const receiver = await sink();
    const port = new URL(receiver.url).port;
    dnsAnswers.set('internal.test', PUBLIC_ADDRESS);
    const { eventType } = await relayFor(guarded, `http://internal.test:${port}/`);
    dnsAnswers.set('internal.test', '10.0.0.5');
    const { deliveryId } = await publish(guarded, eventType);

    const outcome = await settled(guarded, deliveryId);
    expect(outcome).toMatchObject({ status: 'DEAD', errorClasses: ['SSRF_BLOCKED'] });
    // The stored message names the host and the kind of address, never the address itself.
    expect(outcome.messages[0]).toBe('internal.test resolves to a private address');
    expect(guardProxy.requests).toEqual([]);
    expect(guardProxy.tunnels).toEqual([]);
    expect(receiver.received).toHaveLength(0);
  });

  it('a loopback IP literal saved before the guard was on is blocked before the proxy is asked', async () => {
    const receiver = await sink();
    // Straight into the table: the API would refuse this URL now.
    const make = fixtures(guarded.orm, guarded.keyring);
    const { relay } = await make.relay({ url: `${receiver.url}/literal`, retrySchedule: [] });
    const eventType = `egress.case${++cases}`;
    await make.subscription({ relay, eventTypes: [eventType] });
    const { deliveryId } = await publish(guarded, eventType);

    const outcome = await settled(guarded, deliveryId);
    expect(outcome).toMatchObject({ status: 'DEAD', errorClasses: ['SSRF_BLOCKED'] });
    expect(guardProxy.requests).toEqual([]);
    expect(guardProxy.tunnels).toEqual([]);
    expect(receiver.received).toHaveLength(0);
  });
});

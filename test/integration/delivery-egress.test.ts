import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Resolver } from '../../src/delivery/ssrf-guard.js';
import { seal } from '../../src/crypto/seal.js';
import { sealedAt } from '../../src/crypto/sealed-at.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument, UpdateRelayDocument, type CreateRelayInput } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';
import { serveTunnels } from '../helpers/tunnel.js';

/** A forward HTTP proxy: absolute-form requests for http targets, CONNECT tunnels for the rest. */
interface TestProxy {
  url: string;
  /** Absolute-form request targets, as received. */
  requests: string[];
  /** CONNECT authorities (host:port). */
  tunnels: string[];
  close(): Promise<void>;
}

/** `fakeInternet`: every tunnel goes to 127.0.0.1 at the port asked for, whatever host was asked (the test's public addresses exist nowhere). */
async function startProxy(options: { fakeInternet?: boolean } = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const tunnels: string[] = [];
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
  const tunnelled = serveTunnels(server, { onTunnel: (target) => tunnels.push(target), connectTo: options.fakeInternet ? () => '127.0.0.1' : undefined });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tunnels,
    close: () => new Promise((done) => {
      tunnelled.destroyAll();
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
/** HOOKYARD_EGRESS_PROXY set; the same with NO_PROXY (an address and a name); and with the SSRF guard on. */
let proxied: App;
let bypassing: App;
let guarded: App;

beforeAll(async () => {
  [globalProxy, bypassedProxy, guardProxy] = await Promise.all([startProxy(), startProxy(), startProxy()]);
  [proxied, bypassing, guarded] = await Promise.all([
    startTestApp(await createTestDatabase(), { HOOKYARD_EGRESS_PROXY: globalProxy.url }),
    startTestApp(await createTestDatabase(), { HOOKYARD_EGRESS_PROXY: bypassedProxy.url, NO_PROXY: '127.0.0.1,.bypassed.test' }, { sender: { resolve } }),
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
    // Tunnelled (CONNECT), http target or not: a forwarded request would have the proxy resolve the name.
    expect(globalProxy.tunnels).toContain(new URL(receiver.url).host);
    expect(globalProxy.requests).toEqual([]);
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

  it('a name listed in NO_PROXY bypasses the proxy, though the request goes to its checked address', async () => {
    // The rule that undici's EnvHttpProxyAgent cannot keep (src/delivery/no-proxy.ts): the match
    // is on the relay's name, the connection on the address it resolved to.
    const receiver = await sink();
    dnsAnswers.set('hooks.bypassed.test', '127.0.0.1');
    const { eventType } = await relayFor(bypassing, `http://hooks.bypassed.test:${new URL(receiver.url).port}/named`);
    const { deliveryId } = await publish(bypassing, eventType);

    const [received] = await receiver.waitFor(1);
    expect(await settled(bypassing, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(received!.url).toBe('/named');
    expect(received!.headers.host).toBe(`hooks.bypassed.test:${new URL(receiver.url).port}`);
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
    expect(own.tunnels).toEqual([new URL(receiver.url).host]);
    expect(own.requests).toEqual([]);
    expect(globalProxy.tunnels).not.toContain(new URL(receiver.url).host);
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

/** Answers public first, then private: what a rebinding attacker's DNS does on the second query. */
function rebinding(first: string, then: string): { resolve: Resolver; calls: () => number } {
  let calls = 0;
  return {
    resolve: async () => [{ address: ++calls === 1 ? first : then, family: 4 }],
    calls: () => calls,
  };
}

describe('proxies with the SSRF guard on', () => {
  let recording: TestProxy;
  let namesProxy: TestProxy;
  let relayProxies: App;
  let names: App;
  /** Per test: what each name resolves to, in order of the questions asked. */
  const answers = new Map<string, { resolve: Resolver; calls: () => number }>();
  const byName: Resolver = (hostname) => {
    const entry = answers.get(hostname);
    if (!entry) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
    return entry.resolve(hostname);
  };

  beforeAll(async () => {
    [recording, namesProxy] = await Promise.all([startProxy({ fakeInternet: true }), startProxy({ fakeInternet: true })]);
    const guardOn = { HOOKYARD_ALLOW_PRIVATE_TARGETS: 'false', HOOKYARD_ALLOWED_PRIVATE_PROXIES: `${new URL(recording.url).host},192.0.2.0/24` };
    [relayProxies, names] = await Promise.all([
      startTestApp(await createTestDatabase(), guardOn, { sender: { resolve: byName } }),
      startTestApp(await createTestDatabase(), { ...guardOn, HOOKYARD_EGRESS_PROXY: namesProxy.url, HOOKYARD_EGRESS_PROXY_SENDS_NAMES: 'true' }, { sender: { resolve: byName } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([recording, namesProxy].map((proxy) => proxy?.close()));
  });

  it('asks a relay\'s proxy for the address it checked, never the name, so a rebinding answer is never used', async () => {
    const receiver = await sink();
    const port = new URL(receiver.url).port;
    answers.set('rebind.test', { resolve: async () => [{ address: PUBLIC_ADDRESS, family: 4 }], calls: () => 0 });
    const { eventType } = await relayFor(relayProxies, `http://rebind.test:${port}/hook`, { proxyUrl: recording.url });
    // From now on: one public answer, then private ones.
    const dns = rebinding(PUBLIC_ADDRESS, '10.0.0.5');
    answers.set('rebind.test', dns);
    const { deliveryId } = await publish(relayProxies, eventType);

    expect(await settled(relayProxies, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(recording.tunnels).toEqual([`${PUBLIC_ADDRESS}:${port}`]);
    expect(recording.requests).toEqual([]);
    expect(dns.calls()).toBe(1);
    const [received] = receiver.received;
    expect(received!.headers.host).toBe(`rebind.test:${port}`);
    expect(received!.url).toBe('/hook');
  });

  it('asks HOOKYARD_EGRESS_PROXY for the name when HOOKYARD_EGRESS_PROXY_SENDS_NAMES is set', async () => {
    const receiver = await sink();
    const port = new URL(receiver.url).port;
    answers.set('named.test', { resolve: async () => [{ address: PUBLIC_ADDRESS, family: 4 }], calls: () => 0 });
    const { eventType } = await relayFor(names, `http://named.test:${port}/`);
    const { deliveryId } = await publish(names, eventType);

    expect(await settled(names, deliveryId)).toMatchObject({ status: 'SUCCEEDED', errorClasses: [null] });
    expect(namesProxy.tunnels).toEqual([`named.test:${port}`]);
    expect(receiver.received[0]!.headers.host).toBe(`named.test:${port}`);
  });

  it('asks HOOKYARD_EGRESS_PROXY for the checked address by default', async () => {
    const receiver = await sink();
    const port = new URL(receiver.url).port;
    dnsAnswers.set('default.test', PUBLIC_ADDRESS);
    const { eventType } = await relayFor(guarded, `http://default.test:${port}/`);
    const { deliveryId } = await publish(guarded, eventType);

    expect(await settled(guarded, deliveryId)).toMatchObject({ status: 'DEAD' });
    // The guarded app's proxy is a real one: asked for 93.184.215.14, it cannot reach it here.
    expect(guardProxy.tunnels).toContain(`${PUBLIC_ADDRESS}:${port}`);
    expect(guardProxy.tunnels.some((t) => t.startsWith('default.test'))).toBe(false);
  });

  it.each([
    ['loopback', 'http://127.0.0.1:3128', 'proxy 127.0.0.1 is loopback'],
    ['cloud metadata', 'http://169.254.169.254:80', 'proxy 169.254.169.254 is cloud metadata'],
    ['localhost', 'http://localhost:3128', 'proxy localhost is loopback'],
  ])('refuses a %s proxyUrl at save with BAD_USER_INPUT naming proxyUrl', async (_kind, proxyUrl, reason) => {
    const created = await execute(relayProxies.url, CreateRelayDocument, { input: { name: 'p', url: 'http://93.184.215.14/', proxyUrl } }, TEST_ADMIN_TOKEN);
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUrl' });
    expect(created.errors![0]!.message).toContain(reason);

    const ok = await execute(relayProxies.url, CreateRelayDocument, { input: { name: 'p', url: 'http://93.184.215.14/' } }, TEST_ADMIN_TOKEN);
    const updated = await execute(relayProxies.url, UpdateRelayDocument, { id: ok.data!.createRelay.relay.id, input: { proxyUrl } }, TEST_ADMIN_TOKEN);
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUrl' });
  });

  it('accepts a private proxy the operator listed, by host:port or by CIDR', async () => {
    for (const proxyUrl of [recording.url, 'http://192.0.2.10:3128']) {
      const created = await execute(relayProxies.url, CreateRelayDocument, { input: { name: 'listed', url: 'http://93.184.215.14/', proxyUrl } }, TEST_ADMIN_TOKEN);
      expect(created.errors).toBeUndefined();
    }
  });

  it.each([
    ['169.254.169.254', 'http://169.254.169.254:3128', 'proxy 169.254.169.254 is cloud metadata'],
    ['a name that now resolves to 127.0.0.1', 'http://proxy.rebind.test:3128', 'proxy proxy.rebind.test resolves to a loopback address'],
  ])('refuses a proxy at connect time: %s', async (_kind, proxyUrl, message) => {
    answers.set('proxy.rebind.test', { resolve: async () => [{ address: '127.0.0.1', family: 4 }], calls: () => 0 });
    answers.set('target.test', { resolve: async () => [{ address: PUBLIC_ADDRESS, family: 4 }], calls: () => 0 });
    // Straight into the table, sealed as the API seals it: the API refuses this proxy now.
    const make = fixtures(relayProxies.orm, relayProxies.keyring);
    const { relay } = await make.relay({ url: 'http://target.test/', retrySchedule: [] });
    await relayProxies.pool.query('update relay set proxy_url = $2, proxy_url_sealed = $3 where id = $1', [relay.id, proxyUrl, seal(relayProxies.keyring, proxyUrl, sealedAt.relayProxyUrl(relay.id))]);
    const eventType = `egress.case${++cases}`;
    await make.subscription({ relay, eventTypes: [eventType] });
    const { deliveryId } = await publish(relayProxies, eventType);

    const outcome = await settled(relayProxies, deliveryId);
    expect(outcome).toMatchObject({ status: 'DEAD', errorClasses: ['SSRF_BLOCKED'], messages: [message] });
  });
});

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import type { Resolver } from '../../src/delivery/ssrf-guard.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { startSink, waitUntil } from '../helpers/sink.js';
import { postGraphQL } from '../helpers/graphql.js';

/** Item 8: what callers learn that only the operator's log should say. */

const METRICS_TOKEN = `metrics-${randomBytes(12).toString('hex')}`;
const PUBLIC_ADDRESS = '93.184.215.14';
const dnsAnswers = new Map<string, string>([['private.test', '10.1.2.3']]);
const resolve: Resolver = async (hostname) => {
  const address = dnsAnswers.get(hostname);
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  return [{ address, family: 4 }];
};

const logLines: string[] = [];
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});
const logged = () => logLines.join('');

let app: App;

beforeAll(async () => {
  app = await startTestApp(
    await createTestDatabase(),
    { HOOKYARD_ALLOW_PRIVATE_TARGETS: 'false', HOOKYARD_METRICS_TOKEN: METRICS_TOKEN, LOG_LEVEL: 'info' },
    { sender: { resolve } },
    logDestination,
  );
});

const gql = (query: string, variables: Record<string, unknown> = {}) => postGraphQL(app.url, query, variables, TEST_ADMIN_TOKEN);

describe('a source whose secret this process cannot unseal', () => {
  it('answers a generic 401: the key id is in the log only', async () => {
    const foreign = parseKey(randomBytes(32).toString('base64'));
    await fixtures(app.orm, createKeyring(foreign)).source({ slug: 'sealed-elsewhere', preset: 'GITHUB', secret: 'gh' });
    const response = await fetch(`${app.url}/ingest/sealed-elsewhere`, { method: 'POST', headers: { 'x-github-event': 'push' }, body: '{}' });
    const text = await response.text();
    expect(response.status).toBe(401);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'SECRET_UNAVAILABLE' } });
    expect(text).not.toContain(foreign.id);
    const rejected = await app.pool.query<{ message: string }>(`select message from rejected_request where reason = 'SECRET_UNAVAILABLE'`);
    expect(rejected.rows.map((row) => row.message).join()).not.toContain(foreign.id);
    await waitUntil(() => (logged().includes(foreign.id) ? true : undefined), 5000, 'the key id in the log');
  });
});

describe('/metrics with HOOKYARD_METRICS_TOKEN', () => {
  it('answers 401 without the bearer token, or with a wrong one, and 200 with it', async () => {
    const missing = await fetch(`${app.url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await missing.text()).not.toContain('hookyard_');
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status).toBe(401);
    const ok = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('hookyard_ingest_requests_total');
  });

  it('with HOOKYARD_METRICS_PORT, /metrics is served there and not on the main port', async () => {
    const separate = await startTestApp(await createTestDatabase(), { HOOKYARD_METRICS_PORT: '0', HOOKYARD_ROLE: 'api' });
    expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
    expect(separate.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(separate.metricsUrl).not.toBe(separate.url);
    const ok = await fetch(`${separate.metricsUrl}/metrics`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('hookyard_ingest_requests_total');
    expect((await fetch(`${separate.metricsUrl}/graphql`)).status).toBe(404);
    await separate.stop();
  });
});

describe('SSRF refusals name no resolved address to the caller', () => {
  it('createRelay: BAD_USER_INPUT on url without the address; the log has it', async () => {
    const result = await gql('mutation { createRelay(input: { name: "internal", url: "http://private.test/hook" }) { relay { id } } }');
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(result.errors![0]!.message).toContain('private.test');
    expect(result.errors![0]!.message).not.toContain('10.1.2.3');
    await waitUntil(() => (logged().includes('10.1.2.3') ? true : undefined), 5000, 'the address in the log');
  });

  it('an attempt blocked at connect time stores and shows no address; the log has it', async () => {
    const sink = await startSink();
    dnsAnswers.set('rebind.test', PUBLIC_ADDRESS);
    const created = await gql(`mutation { createRelay(input: { name: "rebind", url: "http://rebind.test:${new URL(sink.url).port}/", retrySchedule: [] }) { relay { id } } }`);
    expect(created.errors).toBeUndefined();
    const relayId = created.data!.createRelay.relay.id as string;
    await gql('mutation($relay: ID!) { createSubscription(input: { relayId: $relay, eventTypes: ["rebind.now"] }) { id } }', { relay: relayId });
    dnsAnswers.set('rebind.test', '10.0.0.77');
    await gql('mutation { publishEvent(type: "rebind.now", payload: {}) { id } }');
    const attempt = await waitUntil(async () => {
      const { data } = await gql('query($relay: ID!) { deliveries(filter: { relayId: $relay }) { edges { node { status attempts { edges { node { errorClass errorMessage } } } } } } }', { relay: relayId });
      const node = data!.deliveries.edges[0]?.node;
      return node?.status === 'DEAD' ? node.attempts.edges[0].node : undefined;
    }, 15_000, 'the delivery to die');
    expect(attempt.errorClass).toBe('SSRF_BLOCKED');
    expect(attempt.errorMessage).toContain('rebind.test');
    expect(attempt.errorMessage).not.toContain('10.0.0.77');
    expect(sink.received).toHaveLength(0);
    await waitUntil(() => (logged().includes('10.0.0.77') ? true : undefined), 5000, 'the address in the log');
    await sink.close();
  });
});

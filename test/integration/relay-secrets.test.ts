import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateRelayDocument, CreateSubscriptionDocument, PublishEventDocument, RelayDocument, UpdateRelayDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * Secrets at rest (issue 10, item 9): a relay's proxy URL is sealed, every sealed value is
 * bound to its row and column, and headers that steer the connection or a proxy are refused.
 */

let app: App;
let sink: Sink;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase());
  sink = await startSink();
});

afterAll(async () => {
  await sink?.close();
});

const run = <T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) => execute(app.url, document, variables, TEST_ADMIN_TOKEN);

describe('relay extra headers', () => {
  it.each(['Expect', 'Upgrade', 'Keep-Alive', 'TE', 'proxy-authorization'])('refuses %s with BAD_USER_INPUT naming headers', async (name) => {
    const created = await run(CreateRelayDocument, { input: { name: `h-${name}`, url: `${sink.url}/h`, headers: [{ name, value: 'x' }] } });
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers' });
    expect(created.errors![0]!.message).toContain(name);

    const ok = await run(CreateRelayDocument, { input: { name: `ok-${name}`, url: `${sink.url}/h` } });
    const updated = await run(UpdateRelayDocument, { id: ok.data!.createRelay.relay.id, input: { headers: [{ name, value: 'x' }] } });
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers' });
  });
});

describe('a relay proxy URL', () => {
  it('is stored sealed, shown without its password', async () => {
    const created = await run(CreateRelayDocument, { input: { name: 'proxied', url: `${sink.url}/p`, proxyUrl: 'http://squid:pr0xy-pa55@127.0.0.1:3128' } });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createRelay.relay.id;
    const { rows } = await app.pool.query<Record<string, string | null>>('select * from relay where id = $1', [id]);
    expect(JSON.stringify(rows[0])).not.toContain('pr0xy-pa55');
    expect(rows[0]!.proxy_url_sealed).toMatch(/^v2:/);
    // What the API shows (without the password) is all that is left in the clear.
    expect(rows[0]!.proxy_url).toBe('http://squid:***@127.0.0.1:3128/');

    const cleared = await run(UpdateRelayDocument, { id, input: { proxyUrl: null } });
    expect(cleared.errors).toBeUndefined();
    const after = await app.pool.query('select proxy_url, proxy_url_sealed from relay where id = $1', [id]);
    expect(after.rows[0]).toEqual({ proxy_url: null, proxy_url_sealed: null });
  });
});

describe('a sealed value moved to another row', () => {
  it('fails the delivery with error class LOCAL and a clear message, and nothing is sent', async () => {
    const relayFor = async (name: string) => {
      const created = await run(CreateRelayDocument, { input: { name, url: `${sink.url}/${name}`, retrySchedule: [] } });
      const id = created.data!.createRelay.relay.id;
      await run(CreateSubscriptionDocument, { input: { relayId: id, eventTypes: [`${name}.*`] } });
      return id;
    };
    const victim = await relayFor('victim');
    const attacker = await relayFor('attacker');
    // Someone who can write the table but not read the key pastes their own relay's secret over the victim's.
    await app.pool.query('update relay set signing_secret_sealed = (select signing_secret_sealed from relay where id = $2) where id = $1', [victim, attacker]);

    const published = await run(PublishEventDocument, { type: 'victim.created', payload: { n: 1 } });
    expect(published.errors).toBeUndefined();
    const attempt = await waitUntil(async () => {
      const { rows } = await app.pool.query<{ status: string; error_class: string; error_message: string }>(
        `select d.status, a.error_class, a.error_message from delivery d join attempt a on a.delivery_id = d.id where d.event_id = $1`,
        [published.data!.publishEvent.id],
      );
      return rows[0]?.status === 'DEAD' ? rows[0] : undefined;
    }, 20_000, 'the delivery to die');
    expect(attempt.error_class).toBe('LOCAL');
    expect(attempt.error_message).toBe(`cannot open the relay's secrets: the sealed signing_secret_sealed of relay ${victim} failed authentication: it was altered, or copied from another row or column`);
    expect(sink.received.filter((r) => r.url === '/victim')).toHaveLength(0);
    // The process is fine and the relay still reads.
    expect((await run(RelayDocument, { id: victim })).data!.relay!.name).toBe('victim');
  });
});

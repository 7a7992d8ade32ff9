import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { postGraphQL, type RawGraphQLResult } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/**
 * Email relays (issue 16, item 2): a relay of kind EMAIL sends each delivery as an email
 * through its SMTP server, here a real one (`smtp-server`) on 127.0.0.1. Retries, HELD while
 * disabled, attempts and sendTestEvent are the engine's, shared with HTTP relays.
 */

let app: App;
let smtp: SmtpSink;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  app = await startTestApp(databaseUrl);
  smtp = await startSmtpSink();
});

afterAll(async () => {
  await smtp?.close();
});

const gql = (query: string, variables: Record<string, unknown> = {}): Promise<RawGraphQLResult> => postGraphQL(app.url, query, variables, TEST_ADMIN_TOKEN);

const RELAY_FIELDS = 'id kind url enabled email { host port tls username passwordSet from to subject }';

async function createEmailRelay(name: string, email: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<RawGraphQLResult> {
  return gql(`mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { ${RELAY_FIELDS} } } }`, {
    input: { name, kind: 'EMAIL', email: { host: smtp.host, port: smtp.port, tls: 'NONE', from: 'hookyard@example.com', to: [`${name}@example.com`], ...email }, ...extra },
  });
}

/** An EMAIL relay subscribed to `<name>.*` events; its id. */
async function emailRelay(name: string, email: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await createEmailRelay(name, email, extra);
  expect(created.errors).toBeUndefined();
  const id = created.data!.createRelay.relay.id as string;
  const subscribed = await gql('mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }', { input: { relayId: id, eventTypes: [`${name}.*`] } });
  expect(subscribed.errors).toBeUndefined();
  return id;
}

async function publish(type: string, payload: unknown): Promise<string> {
  const published = await gql('mutation($type: String!, $payload: JSON!) { publishEvent(type: $type, payload: $payload) { id } }', { type, payload });
  expect(published.errors).toBeUndefined();
  return published.data!.publishEvent.id as string;
}

interface DeliveryRow { id: string; status: string; attempt_count: number }
interface AttemptRow { number: number; response_status: number | null; response_body_excerpt: string | null; error_class: string | null; error_message: string | null; request_headers: Record<string, string> }

const delivery = async (eventId: string): Promise<DeliveryRow | undefined> =>
  (await app.pool.query<DeliveryRow>('select id, status, attempt_count from delivery where event_id = $1', [eventId])).rows[0];

const attempts = async (deliveryId: string): Promise<AttemptRow[]> =>
  (await app.pool.query<AttemptRow>('select number, response_status, response_body_excerpt, error_class, error_message, request_headers from attempt where delivery_id = $1 order by number', [deliveryId])).rows;

const settled = (eventId: string, status: string, what: string) =>
  waitUntil(async () => {
    const row = await delivery(eventId);
    return row?.status === status ? row : undefined;
  }, 20_000, what);

describe('an EMAIL relay', () => {
  it('is shown with its kind, its settings and an smtp:// url', async () => {
    const created = await createEmailRelay('shown', { subject: 'New {{type}}' });
    expect(created.errors).toBeUndefined();
    expect(created.data!.createRelay.relay).toMatchObject({
      kind: 'EMAIL', url: `smtp://127.0.0.1:${smtp.port}`, enabled: true,
      email: { host: '127.0.0.1', port: smtp.port, tls: 'NONE', username: null, passwordSet: false, from: 'hookyard@example.com', to: ['shown@example.com'], subject: 'New {{type}}' },
    });
    const http = await gql(`mutation { createRelay(input: { name: "plain", url: "http://127.0.0.1:9/x" }) { relay { ${RELAY_FIELDS} } } }`);
    expect(http.data!.createRelay.relay).toMatchObject({ kind: 'HTTP', email: null });
  });

  it('mails the event: the rendered subject, the recipients, the event as pretty JSON', async () => {
    const relayId = await emailRelay('orders', { to: ['ops@example.com', 'sales@example.com'], subject: 'Order {{type}} for {{data.customer.email}}: {{data.note}}' });
    const eventId = await publish('orders.paid', { customer: { email: 'ada@example.org' }, total: 42, note: 'first\r\nBcc: evil@example.net' });
    await settled(eventId, 'SUCCEEDED', 'the email to be delivered');

    const mail = smtp.received.find((m) => m.headers.get('hookyard-event-id') === eventId)!;
    expect(mail).toBeDefined();
    expect(mail.from).toBe('hookyard@example.com');
    // The envelope has the relay's recipients and no one else: a payload cannot add one.
    expect(mail.to).toEqual(['ops@example.com', 'sales@example.com']);
    expect(mail.headers.get('to')).toBe('ops@example.com, sales@example.com');
    expect(mail.headers.get('subject')).toBe('Order orders.paid for ada@example.org: first Bcc: evil@example.net');
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.raw).not.toMatch(/^Bcc:/im);
    expect(mail.headers.get('hookyard-event-type')).toBe('orders.paid');
    expect(mail.headers.get('message-id')).toBe(`<${eventId}.${relayId}@hookyard>`);
    const body = JSON.parse(mail.body) as { type: string; data: unknown };
    expect(body).toMatchObject({ type: 'orders.paid', data: { customer: { email: 'ada@example.org' }, total: 42 } });
    // Pretty-printed: one member per line, indented.
    expect(mail.body.replace(/\r\n/g, '\n')).toContain('\n    "customer": {\n      "email": "ada@example.org"\n    },');

    const { id } = (await delivery(eventId))!;
    const [attempt] = await attempts(id);
    expect(attempt).toMatchObject({ number: 1, response_status: 250, error_class: null });
    expect(attempt!.response_body_excerpt).toContain('queued');
    expect(attempt!.request_headers).toMatchObject({ to: 'ops@example.com, sales@example.com', subject: 'Order orders.paid for ada@example.org: first Bcc: evil@example.net' });
  });

  it('retries a 4xx answer (class SMTP, the code and the reply kept) and then delivers', async () => {
    let refusals = 0;
    smtp.refuseMessage = (to) => (to.includes('later@example.com') && refusals++ === 0 ? { code: 451, message: 'Try again later, mailbox busy' } : undefined);
    await emailRelay('later', { to: ['later@example.com'] }, { retrySchedule: [1] });
    const eventId = await publish('later.created', { n: 1 });
    const row = await settled(eventId, 'SUCCEEDED', 'the retried email to be delivered');
    expect(row.attempt_count).toBe(2);
    const [first, second] = await attempts(row.id);
    expect(first).toMatchObject({ number: 1, error_class: 'SMTP', response_status: 451 });
    expect(first!.response_body_excerpt).toContain('Try again later, mailbox busy');
    expect(first!.error_message).toContain('451');
    expect(second).toMatchObject({ number: 2, error_class: null, response_status: 250 });
    expect(smtp.received.filter((m) => m.to.includes('later@example.com'))).toHaveLength(1);
  });

  it('gives up at once on a 5xx answer: DEAD after one attempt, the SMTP code recorded, whatever the schedule', async () => {
    smtp.refuseRecipient = (address) => (address === 'nobody@example.com' ? { code: 550, message: 'No such user here' } : undefined);
    await emailRelay('bounce', { to: ['nobody@example.com'] }, { retrySchedule: [1, 1, 1] });
    const eventId = await publish('bounce.created', { n: 1 });
    const row = await settled(eventId, 'DEAD', 'the refused email to be DEAD');
    expect(row.attempt_count).toBe(1);
    const [attempt] = await attempts(row.id);
    expect(attempt).toMatchObject({ number: 1, error_class: 'SMTP', response_status: 550 });
    expect(attempt!.response_body_excerpt).toContain('No such user here');

    // Through the API as well: the attempt's status and class.
    const read = await gql('query($id: ID!) { attempts(deliveryId: $id) { edges { node { responseStatus errorClass errorMessage } } } }', { id: row.id });
    expect(read.data!.attempts.edges[0].node).toMatchObject({ responseStatus: 550, errorClass: 'SMTP' });
  });

  it('holds deliveries while disabled and sends them when enabled again', async () => {
    const relayId = await emailRelay('paused');
    const disabled = await gql('mutation($id: ID!) { disableRelay(id: $id, reason: "mailbox moving") { enabled } }', { id: relayId });
    expect(disabled.data!.disableRelay.enabled).toBe(false);
    const eventId = await publish('paused.created', { n: 1 });
    await settled(eventId, 'HELD', 'the delivery to be HELD');
    expect(smtp.received.some((m) => m.headers.get('hookyard-event-id') === eventId)).toBe(false);

    await gql('mutation($id: ID!) { enableRelay(id: $id) { enabled } }', { id: relayId });
    await settled(eventId, 'SUCCEEDED', 'the held email to go once enabled');
    expect(smtp.received.filter((m) => m.headers.get('hookyard-event-id') === eventId)).toHaveLength(1);
  });

  it('takes sendTestEvent like an HTTP relay', async () => {
    const created = await createEmailRelay('tested');
    const relayId = created.data!.createRelay.relay.id as string;
    const sent = await gql('mutation($id: ID!) { sendTestEvent(relayId: $id) { responseStatus errorClass } }', { id: relayId });
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendTestEvent).toEqual({ responseStatus: 250, errorClass: null });
    const mail = smtp.received.find((m) => m.to.includes('tested@example.com'))!;
    expect(mail.headers.get('subject')).toBe('[Hookyard] hookyard.test');
    expect(mail.body).toContain('A test event from Hookyard');
  });
});

describe('an EMAIL relay\'s kind and settings on update', () => {
  const update = (id: string, input: Record<string, unknown>) => gql(`mutation($id: ID!, $input: UpdateRelayInput!) { updateRelay(id: $id, input: $input) { ${RELAY_FIELDS} } }`, { id, input });

  it('turns an HTTP relay into an EMAIL one (email needed) and back (url needed, email settings dropped)', async () => {
    const http = await gql('mutation { createRelay(input: { name: "switch", url: "http://127.0.0.1:9/hook" }) { relay { id } } }');
    const id = http.data!.createRelay.relay.id as string;
    expect((await update(id, { kind: 'EMAIL' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    expect((await update(id, { email: { host: smtp.host, from: 'a@example.com', to: ['b@example.com'] } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });

    const mail = await update(id, { kind: 'EMAIL', email: { host: smtp.host, port: smtp.port, tls: 'NONE', from: 'a@example.com', to: ['b@example.com'] } });
    expect(mail.errors).toBeUndefined();
    expect(mail.data!.updateRelay).toMatchObject({ kind: 'EMAIL', url: `smtp://127.0.0.1:${smtp.port}`, email: { to: ['b@example.com'] } });
    expect((await update(id, { url: 'http://127.0.0.1:9/other' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });

    expect((await update(id, { kind: 'HTTP' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    const back = await update(id, { kind: 'HTTP', url: 'http://127.0.0.1:9/back' });
    expect(back.data!.updateRelay).toMatchObject({ kind: 'HTTP', url: 'http://127.0.0.1:9/back', email: null });
    const { rows } = await app.pool.query('select smtp_host, email_to from relay where id = $1', [id]);
    expect(rows[0]).toEqual({ smtp_host: null, email_to: null });
  });

  it('shows a READ token the server and recipients, not the user name', async () => {
    const created = await createEmailRelay('readable', { tls: 'TLS', username: 'mailer', password: 'pw-for-read-test' });
    const token = await gql('mutation { createApiToken(input: { name: "reader", scope: READ }) { token } }');
    const read = await postGraphQL(app.url, `query($id: ID!) { relay(id: $id) { ${RELAY_FIELDS} } }`, { id: created.data!.createRelay.relay.id }, token.data!.createApiToken.token as string);
    expect(read.data!.relay).toMatchObject({ url: `smtps://127.0.0.1:${smtp.port}/`, email: { host: '127.0.0.1', tls: 'TLS', username: '***', passwordSet: true, to: ['readable@example.com'] } });
    expect(read.text).not.toContain('pw-for-read-test');
  });
});

describe('an EMAIL relay\'s SMTP password', () => {
  it('is sealed at rest, never returned, kept when omitted on update, removed by null', async () => {
    const secret = 'smtp-s3cret-pa55word';
    const created = await createEmailRelay('sealed', { tls: 'STARTTLS', username: 'mailer', password: secret });
    expect(created.errors).toBeUndefined();
    expect(created.text).not.toContain(secret);
    expect(created.data!.createRelay.relay.email).toMatchObject({ username: 'mailer', passwordSet: true, tls: 'STARTTLS' });
    const id = created.data!.createRelay.relay.id as string;

    const { rows } = await app.pool.query<Record<string, unknown>>('select * from relay where id = $1', [id]);
    expect(JSON.stringify(rows[0])).not.toContain(secret);
    expect(rows[0]!.smtp_password_sealed).toMatch(/^v2:/);
    const sealed = rows[0]!.smtp_password_sealed;

    const read = await gql(`query($id: ID!) { relay(id: $id) { ${RELAY_FIELDS} } relays { email { passwordSet } } }`, { id });
    expect(read.text).not.toContain(secret);
    expect(read.data!.relay.email.passwordSet).toBe(true);

    // New recipients, no password given: the stored one stays.
    const kept = await gql(`mutation($id: ID!, $input: UpdateRelayInput!) { updateRelay(id: $id, input: $input) { ${RELAY_FIELDS} } }`, {
      id, input: { email: { host: smtp.host, port: smtp.port, tls: 'STARTTLS', username: 'mailer', from: 'hookyard@example.com', to: ['other@example.com'] } },
    });
    expect(kept.errors).toBeUndefined();
    expect(kept.data!.updateRelay.email).toMatchObject({ passwordSet: true, to: ['other@example.com'] });
    expect((await app.pool.query('select smtp_password_sealed from relay where id = $1', [id])).rows[0].smtp_password_sealed).toBe(sealed);

    const cleared = await gql(`mutation($id: ID!, $input: UpdateRelayInput!) { updateRelay(id: $id, input: $input) { ${RELAY_FIELDS} } }`, {
      id, input: { email: { host: smtp.host, port: smtp.port, tls: 'STARTTLS', username: 'mailer', password: null, from: 'hookyard@example.com', to: ['other@example.com'] } },
    });
    expect(cleared.data!.updateRelay.email.passwordSet).toBe(false);
    expect((await app.pool.query('select smtp_password_sealed from relay where id = $1', [id])).rows[0].smtp_password_sealed).toBeNull();
  });
});

describe('invalid email relay settings', () => {
  const many = Array.from({ length: 21 }, (_, i) => `r${i}@example.com`);
  it.each<[string, string, Record<string, unknown>, Record<string, unknown>]>([
    ['too many recipients', 'email.to', { to: many }, {}],
    ['no recipient', 'email.to', { to: [] }, {}],
    ['a recipient with a line break', 'email.to', { to: ['a@example.com\r\nBcc: evil@example.net'] }, {}],
    ['a recipient with a display name', 'email.to', { to: ['Eve <eve@example.com>'] }, {}],
    ['two recipients in one', 'email.to', { to: ['a@example.com, b@example.com'] }, {}],
    ['a sender that is no address', 'email.from', { from: 'hookyard' }, {}],
    ['a host with a port', 'email.host', { host: 'smtp.example.com:25' }, {}],
    ['a host with a scheme', 'email.host', { host: 'smtp://smtp.example.com' }, {}],
    ['port 0', 'email.port', { port: 0 }, {}],
    ['a subject over two lines', 'email.subject', { subject: 'a\nb' }, {}],
    ['a placeholder that is no path', 'email.subject', { subject: '{{ data.a + 1 }}' }, {}],
    ['credentials without TLS', 'email.tls', { tls: 'NONE', username: 'u', password: 'p' }, {}],
    ['a password without a user name', 'email.password', { tls: 'STARTTLS', password: 'p' }, {}],
    ['batches', 'batch', {}, { batch: { maxEvents: 10 } }],
    ['a url', 'url', {}, { url: 'http://127.0.0.1:9/x' }],
    ['extra headers', 'headers', {}, { headers: [{ name: 'X-Api-Key', value: 'k' }] }],
  ])('refuses %s with BAD_USER_INPUT naming %s', async (_what, field, email, extra) => {
    const created = await createEmailRelay('invalid', email, extra);
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('refuses EMAIL without email settings, and email settings on an HTTP relay', async () => {
    const bare = await gql('mutation { createRelay(input: { name: "bare", kind: EMAIL }) { relay { id } } }');
    expect(bare.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    const http = await gql('mutation { createRelay(input: { name: "mixed", url: "http://127.0.0.1:9/x", email: { host: "127.0.0.1", from: "a@example.com", to: ["b@example.com"] } }) { relay { id } } }');
    expect(http.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    const nourl = await gql('mutation { createRelay(input: { name: "nourl" }) { relay { id } } }');
    expect(nourl.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });

  it('refuses batch on update of an EMAIL relay', async () => {
    const created = await createEmailRelay('later-batch');
    const updated = await gql('mutation($id: ID!) { updateRelay(id: $id, input: { batch: { maxEvents: 5 } }) { id } }', { id: created.data!.createRelay.relay.id });
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'batch' });
  });
});

describe('the SSRF guard on an EMAIL relay\'s SMTP host', () => {
  it.each([['10.0.0.5', 'private'], ['127.0.0.1', 'loopback'], ['localhost', 'loopback'], ['169.254.169.254', 'cloud metadata']])('refuses %s at save time, naming email.host', async (host, kind) => {
    // An API replica with the guard on (the default outside tests), on the same database.
    const guarded = await startTestApp(databaseUrl, { HOOKYARD_ROLE: 'api', HOOKYARD_ALLOW_PRIVATE_TARGETS: 'false' });
    const created = await postGraphQL(guarded.url, 'mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } } }', {
      input: { name: 'internal', kind: 'EMAIL', email: { host, port: 25, tls: 'NONE', from: 'a@example.com', to: ['b@example.com'] } },
    }, TEST_ADMIN_TOKEN);
    expect(created.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email.host' });
    expect(created.errors![0]!.message).toContain(kind);
    await guarded.stop();
  });
});

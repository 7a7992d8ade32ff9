import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { seal, UnsealError } from '../../src/crypto/seal.js';
import { sealedAt } from '../../src/crypto/sealed-at.js';
import type { ClaimedRow } from '../../src/delivery/build-request.js';
import { NOTHING_LOGGED, type AttemptContext } from '../../src/delivery/destinations/destination.js';
import { EmailDestination } from '../../src/delivery/destinations/email.js';
import { OpenedSecrets } from '../../src/delivery/opened-secrets.js';
import type { Resolver } from '../../src/delivery/ssrf-guard.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/**
 * The EMAIL destination on its own, against real sockets: the SSRF guard on the SMTP host (the
 * checked address is the one connected to), and how connection failures map onto the error
 * classes HTTP relays use. No database: the dispatcher's part is in email-relay.test.ts.
 */

const ring = createKeyring(parseKey(randomBytes(32).toString('base64')));
const secrets = new OpenedSecrets(ring);
const relayId = '22222222-2222-4222-8222-222222222222';
let smtp: SmtpSink;
let silent: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  smtp = await startSmtpSink();
  // Accepts connections and never greets.
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await smtp.close();
});

function row(overrides: Partial<ClaimedRow> = {}): ClaimedRow {
  return {
    id: 'd', created_at: new Date(), relay_id: relayId, event_id: 'evt-1', type: 'user.created', body: Buffer.from('{"data":{"name":"Ada"}}'), content_type: 'application/json',
    event_headers: {}, source_slug: null, url: 'smtp://x', method: 'POST', headers_sealed: null, signing_secret_sealed: '', previous_signing_secret_sealed: null,
    previous_signing_secret_expires_at: null, timeout_ms: 2000, retry_schedule: null, max_age_seconds: null, max_concurrency: 10, rate_limit_per_second: null,
    proxy_url: null, proxy_url_sealed: null, forward_headers: null, correlation_id: null, traceparent: null,
    kind: 'EMAIL', smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_tls: 'NONE', smtp_user: null, smtp_password_sealed: null,
    email_from: 'hookyard@example.com', email_to: ['dest@example.com'], email_subject: 'Hello {{data.name}}',
    ...overrides,
  };
}

function context(): AttemptContext & { sent: boolean } {
  const ctx = { deliveryId: 'd', signal: new AbortController().signal, logged: NOTHING_LOGGED, sent: false, onSending: () => { ctx.sent = true; } };
  return ctx;
}

const fixed = (address: string): Resolver => async () => [{ address, family: 4 }];

describe('the SMTP host and the SSRF guard', () => {
  it.each([
    ['a name that resolves to a private address', 'mail.internal.test', fixed('10.1.2.3'), 'mail.internal.test resolves to a private address'],
    ['a loopback address', '127.0.0.1', fixed('127.0.0.1'), '127.0.0.1 is loopback'],
    ['localhost', 'localhost', fixed('127.0.0.1'), 'localhost is loopback'],
  ])('refuses %s before connecting (SSRF_BLOCKED)', async (_what, host, resolve, message) => {
    const destination = new EmailDestination({ secrets, resolve, allowPrivate: false });
    const attempt = context();
    const outcome = await destination.send(row({ smtp_host: host }), attempt);
    expect(outcome).toMatchObject({ ok: false, errorClass: 'SSRF_BLOCKED', message });
    // The address a name resolved to is for the log, never for callers.
    if (!outcome.ok) expect(outcome.message).not.toContain('10.1.2.3');
    expect(attempt.sent).toBe(false);
    await destination.close();
  });

  it('connects to the address it checked, not to whatever the name resolves to later', async () => {
    // `mail.hookyard.test` exists only in this resolver: nodemailer could not resolve it itself.
    const destination = new EmailDestination({ secrets, resolve: fixed('127.0.0.1'), allowPrivate: true });
    const attempt = context();
    const outcome = await destination.send(row({ smtp_host: 'mail.hookyard.test' }), attempt);
    expect(outcome).toMatchObject({ ok: true, status: 250 });
    expect(attempt.sent).toBe(true);
    expect(attempt.logged).toMatchObject({ subject: 'Hello Ada', to: 'dest@example.com', from: 'hookyard@example.com' });
    await destination.close();
  });
});

describe('connection failures map onto the HTTP error classes', () => {
  const destination = new EmailDestination({ secrets, resolve: fixed('127.0.0.1'), allowPrivate: true });
  afterAll(() => destination.close());

  it('a closed port is CONNECTION_REFUSED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await destination.send(row({ smtp_port: port }), context());
    expect(outcome).toMatchObject({ ok: false, errorClass: 'CONNECTION_REFUSED', status: null });
  });

  it('a server that never greets is a TIMEOUT within the relay\'s timeoutMs', async () => {
    const started = Date.now();
    const outcome = await destination.send(row({ smtp_port: (silent.address() as AddressInfo).port, timeout_ms: 300 }), context());
    expect(outcome).toMatchObject({ ok: false, errorClass: 'TIMEOUT', message: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('STARTTLS required from a server that does not offer it is TLS, and nothing is sent in clear', async () => {
    const before = smtp.received.length;
    const outcome = await destination.send(row({ smtp_tls: 'STARTTLS' }), context());
    expect(outcome).toMatchObject({ ok: false, errorClass: 'TLS' });
    expect(smtp.received.length).toBe(before);
  });

  it('a password sealed for another relay is refused before anything leaves', async () => {
    const moved = seal(ring, 'pw', sealedAt.relaySmtpPassword('33333333-3333-4333-8333-333333333333'));
    const attempt = context();
    await expect(destination.send(row({ smtp_tls: 'STARTTLS', smtp_user: 'u', smtp_password_sealed: moved }), attempt)).rejects.toBeInstanceOf(UnsealError);
    expect(attempt.sent).toBe(false);
  });
});

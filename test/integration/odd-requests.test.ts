import { request } from 'node:http';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Any method (fetch refuses TRACE and CONNECT), any body; rejects if the connection ends with no answer. */
function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer; streamBytes?: number } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${app.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
      // The answer is in: stop sending, as a real client would.
      if (options.streamBytes) res.once('end', () => req.destroy());
    });
    req.on('error', reject);
    if (options.streamBytes) {
      const chunk = Buffer.alloc(64 * 1024, ' ');
      let sent = 0;
      const pump = () => {
        while (sent < options.streamBytes!) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
      return;
    }
    req.end(options.body);
  });
}

/** The raw answer to a request line written on a bare socket, until the server closes it. */
function rawExchange(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(app.port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('GraphQL bodies of 1 MiB or more', () => {
  it('answers 413 with a JSON error to a body of exactly 1 MiB', async () => {
    const query = JSON.stringify({ query: '{ sources { slug } }', padding: '' });
    const body = query.replace('""', `"${'x'.repeat(1024 * 1024 - query.length)}"`);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    const answer = await send('POST', '/graphql', { headers: { 'content-type': 'application/json' }, body });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ message: expect.stringMatching(/1 MiB/), extensions: { code: expect.any(String) } }] });
  });

  it('answers 413 to a chunked body that goes on and on, without reading it all', async () => {
    const answer = await send('POST', '/graphql', { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, streamBytes: 32 * 1024 * 1024 });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body).errors[0].message).toMatch(/1 MiB/);
  });

  it('still runs a body just under the limit', async () => {
    const query = JSON.stringify({ query: '{ sources { slug } }', padding: '' });
    const body = query.replace('""', `"${'x'.repeat(1024 * 1024 - 1 - query.length)}"`);
    const answer = await send('POST', '/graphql', { headers: { 'content-type': 'application/json' }, body });
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { sources: [{ slug: '_hookyard' }] } });
  });
});

describe('a subscription over HTTP', () => {
  const subscription = 'subscription { deliveryUpdated { id status } }';

  it('is a clear 400 by POST, naming the websocket it needs', async () => {
    const answer = await send('POST', '/graphql', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: subscription }) });
    expect(answer.status).toBe(400);
    const { errors } = JSON.parse(answer.body);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: expect.stringMatching(/websocket.*graphql-ws.*\/graphql/), extensions: { code: 'SUBSCRIPTION_OVER_HTTP' } });
  });

  it('is the same clear error by GET', async () => {
    const answer = await send('GET', `/graphql?query=${encodeURIComponent(subscription)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('SUBSCRIPTION_OVER_HTTP');
  });
});

describe('methods a route does not serve', () => {
  const routes: [string, string][] = [['/graphql', 'GET, POST, OPTIONS'], ['/healthz', 'GET, HEAD'], ['/readyz', 'GET, HEAD'], ['/metrics', 'GET, HEAD'], ['/ingest/some-source', 'POST']];
  const methods = ['TRACE', 'PATCH', 'DELETE', 'PUT', 'PROPFIND'];

  it.each(routes)('%s answers 405 with Allow and the JSON error to TRACE, PATCH, DELETE, PUT and PROPFIND', async (path, allow) => {
    for (const method of methods) {
      const answer = await send(method, path);
      expect([method, answer.status]).toEqual([method, 405]);
      expect(answer.headers.allow).toBe(allow);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining(allow) } });
    }
  });

  it('answers CONNECT with 405 and closes the connection', async () => {
    const answer = await rawExchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer).toMatch(/\r\nallow: GET, HEAD, POST, OPTIONS\r\n/i);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(bodyOf(answer))).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: expect.any(String) } });
  });
});

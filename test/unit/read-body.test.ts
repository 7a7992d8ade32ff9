import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { BodyBudget } from '../../src/wire/body-budget.js';
import { refuseUnreadBody, sendJson } from '../../src/wire/json-response.js';
import { readBody, type BodyCap } from '../../src/wire/read-body.js';

/** The cap the server reads the next request with; with `budget`, each request leases from `budget`. */
let cap: Omit<BodyCap, 'lease'> & { budget?: true };
/** What the server's reader made of the last request: the body's length, or the refusal's code. */
let outcome: Promise<number | string>;
let server: Server;
let port: number;
const budget = new BodyBudget(100);

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const lease = cap.budget ? budget.lease() : undefined;
    outcome = readBody(request, { limit: cap.limit, tooLarge: cap.tooLarge, lease }).then(
      (body) => {
        sendJson(response, 200, { bytes: body.length });
        return body.length;
      },
      (error: AppError) => {
        if (!response.destroyed) refuseUnreadBody(request, response, error.status, error.toBody(), { 'x-refused': 'yes' });
        return error.code;
      },
    ).finally(() => lease?.release());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', 'too large');

/** Sends `chunks` (no Content-Length unless `declared`), and resolves with the answer. */
function send(chunks: Buffer[], declared?: number): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, method: 'POST', path: '/', headers: declared === undefined ? {} : { 'content-length': declared } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    // A refused body is left unread: the answer comes before the request ends.
    req.end();
  });
}

describe('readBody, the one capped body reader', () => {
  it.each([
    ['a body at the limit', 10, [Buffer.alloc(10)], undefined, 200, 10],
    ['an empty body', 10, [], 0, 200, 0],
    ['a declared length past the limit, before a byte is read', 10, [Buffer.alloc(11)], 11, 413, 'PAYLOAD_TOO_LARGE'],
    ['a streamed body past the limit', 10, [Buffer.alloc(6), Buffer.alloc(6)], undefined, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('%s', async (_name, limit, chunks, declared, status, expected) => {
    cap = { limit, tooLarge };
    const answer = await send([...chunks], declared);
    expect(answer.status).toBe(status);
    expect(await outcome).toBe(expected);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    if (status === 413) {
      expect(JSON.parse(answer.body)).toEqual(new AppError('PAYLOAD_TOO_LARGE', 'too large').toBody());
      expect(answer.headers.connection).toBe('close');
      expect(answer.headers['x-refused']).toBe('yes');
    } else {
      expect(JSON.parse(answer.body)).toEqual({ bytes: expected });
    }
  });

  it('refuses a body the shared budget cannot hold (INGEST_BUSY), declared or streamed, and gives the budget back', async () => {
    cap = { limit: 1000, tooLarge, budget: true };
    const declared = await send([Buffer.alloc(101)], 101);
    expect([declared.status, await outcome]).toEqual([503, 'INGEST_BUSY']);
    const streamed = await send([Buffer.alloc(60), Buffer.alloc(60)]);
    expect([streamed.status, await outcome]).toEqual([503, 'INGEST_BUSY']);
    expect(budget.inUse).toBe(0);
    const fits = await send([Buffer.alloc(100)], 100);
    expect([fits.status, await outcome]).toEqual([200, 100]);
  });

  it('calls a sender that goes away mid-body a BAD_REQUEST', async () => {
    cap = { limit: 1000, tooLarge };
    const req = httpRequest({ port, method: 'POST', path: '/', headers: { 'content-length': 500 } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    expect(await outcome).toBe('BAD_REQUEST');
  });
});

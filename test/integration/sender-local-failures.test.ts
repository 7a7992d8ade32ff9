import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { startSink, type Sink } from '../helpers/sink.js';

/**
 * DESIGN.md: `LOCAL` is a failure before the request left. A request undici refuses to build
 * (a header value it cannot write) never reaches the receiver, so it is not the receiver's
 * `CONNECTION_RESET`.
 */
let sink: Sink;
let sender: HttpSender;

beforeAll(async () => {
  sink = await startSink();
  sender = new HttpSender({ allowPrivate: true });
});

afterAll(async () => {
  await sender.close();
  await sink.close();
});

describe('failures before the request leaves', () => {
  it('a header undici refuses to write is LOCAL, and nothing reaches the receiver', async () => {
    const outcome = await sender.send({ url: sink.url, method: 'POST', headers: { 'x-bad': 'a\r\nb' }, body: Buffer.from('{}'), timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: false, errorClass: 'LOCAL', status: null });
    expect(sink.received).toEqual([]);
  });

  it('the same request with a header it can write reaches the receiver', async () => {
    const outcome = await sender.send({ url: sink.url, method: 'POST', headers: { 'x-good': 'b' }, body: Buffer.from('{}'), timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(sink.received).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { useSenderAndSink } from '../helpers/sender.js';

/**
 * DESIGN.md: `LOCAL` is a failure before the request left. A request undici refuses to build
 * (a header value it cannot write) never reaches the receiver, so it is not the receiver's
 * `CONNECTION_RESET`.
 */
const ctx = useSenderAndSink();

describe('failures before the request leaves', () => {
  it('a header undici refuses to write is LOCAL, and nothing reaches the receiver', async () => {
    const outcome = await ctx.sender.send({ url: ctx.sink.url, method: 'POST', headers: { 'x-bad': 'a\r\nb' }, body: Buffer.from('{}'), timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: false, errorClass: 'LOCAL', status: null });
    expect(ctx.sink.received).toEqual([]);
  });

  it('the same request with a header it can write reaches the receiver', async () => {
    const outcome = await ctx.sender.send({ url: ctx.sink.url, method: 'POST', headers: { 'x-good': 'b' }, body: Buffer.from('{}'), timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(ctx.sink.received).toHaveLength(1);
  });
});

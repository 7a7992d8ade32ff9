import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readExcerpt, RESPONSE_EXCERPT_BYTES } from '../../src/delivery/http-sender.js';

describe('readExcerpt', () => {
  it('reads a whole short body', async () => {
    expect(await readExcerpt(Readable.from([Buffer.from('ok '), Buffer.from('then more')]))).toBe('ok then more');
  });

  it('stops at the excerpt size and drops the rest of the body', async () => {
    const body = new PassThrough();
    body.write(Buffer.alloc(RESPONSE_EXCERPT_BYTES + 10, 'a'));
    const excerpt = await readExcerpt(body);
    expect(excerpt).toHaveLength(RESPONSE_EXCERPT_BYTES);
    expect(body.destroyed).toBe(true);
  });

  it('keeps what arrived before the body failed, and a later error on it goes nowhere', async () => {
    const body = new PassThrough();
    const reading = readExcerpt(body);
    body.write('partial');
    await new Promise((resolve) => setImmediate(resolve));
    body.destroy(new Error('reset by the receiver'));
    expect(await reading).toBe('partial');
    // No listener of ours is left that would throw; an unhandled 'error' would fail the test run.
    body.emit('error', new Error('late'));
  });

  it('answers at once for a body already destroyed, where waiting for its events would hang', async () => {
    const body = new PassThrough();
    body.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await readExcerpt(body)).toBe('');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventTypeHeader } from '../../src/delivery/event-type-header.js';

/** What an HTTP/1.1 header value may hold and keep (undici's own check, and no whitespace to trim at the ends). */
const SENDABLE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;

describe('eventTypeHeader', () => {
  it.each([
    ['order.created', 'order.created'],
    ['a b', 'a b'],
    ['Weird!*()type', 'Weird!*()type'],
    ['', ''],
    ['注文.作成', '%E6%B3%A8%E6%96%87.%E4%BD%9C%E6%88%90'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['100%', '100%25'],
    ['deploy.🚀', 'deploy.%F0%9F%9A%80'],
    ['café', 'caf%C3%A9'],
    ['tab\there', 'tab%09here'],
    [' padded', '%20padded'],
    ['padded ', 'padded%20'],
    ['x\u007f', 'x%7F'],
  ])('%j is sent as %j', (type, header) => {
    expect(eventTypeHeader(type)).toBe(header);
    expect(decodeURIComponent(header)).toBe(type);
  });

  it('is sendable as a header and decodes to the exact type, for any well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (type) => {
        const header = eventTypeHeader(type);
        expect(header).toMatch(SENDABLE);
        expect(decodeURIComponent(header)).toBe(type);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on a lone surrogate (it is sent as U+FFFD, as PostgreSQL would store it)', () => {
    expect(decodeURIComponent(eventTypeHeader('a\ud800'))).toBe('a\ufffd');
  });
});

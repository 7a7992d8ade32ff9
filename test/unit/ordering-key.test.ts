import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, orderingKeyOf, parseOrderingSpec } from '../../src/delivery/ordering/ordering-key.js';

const event = (json: unknown, headers: Record<string, string> = {}, idempotencyKey: string | null = null) => ({ headers, idempotencyKey, json: () => json as never });
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('orderingKeyOf', () => {
  it('reads a JSON path, a kept header or the idempotency key', () => {
    expect(orderingKeyOf('json:$.data.customer', event({ data: { customer: 'cus_1' } }))).toEqual({ key: 'cus_1' });
    expect(orderingKeyOf('json:$.data.n', event({ data: { n: 42 } }))).toEqual({ key: '42' });
    expect(orderingKeyOf('header:X-Order-Id', event(null, { 'x-order-id': 'o-9' }))).toEqual({ key: 'o-9' });
    expect(orderingKeyOf('idempotencyKey', event(null, {}, 'evt_1'))).toEqual({ key: 'evt_1' });
  });

  it('goes unordered, saying why, without a usable value', () => {
    expect(orderingKeyOf('json:$.data.customer', event({ data: {} }))).toEqual({ unordered: 'the event has no value at json:$.data.customer' });
    expect(orderingKeyOf('json:$.data.customer', event({ data: { customer: { id: 1 } } }))).toEqual({ unordered: 'the value at json:$.data.customer is not a string, number or boolean' });
    // Inherited properties are not the event's.
    expect(orderingKeyOf('json:$.constructor', event({}))).toMatchObject({ unordered: expect.any(String) });
    expect(orderingKeyOf('json:$.data', event(null))).toMatchObject({ unordered: expect.any(String) });
  });

  it('stores a key that PostgreSQL text cannot hold or that is too long as its SHA-256', () => {
    // A NUL from a verified body would fail the whole group commit it shares with other requests.
    expect(orderingKeyOf('json:$.customer', event({ customer: 'a\u0000b' }))).toEqual({ key: sha('a\u0000b') });
    const long = 'x'.repeat(MAX_KEY_LENGTH + 1);
    expect(orderingKeyOf('json:$.customer', event({ customer: long }))).toEqual({ key: sha(long) });
    expect(orderingKeyOf('json:$.customer', event({ customer: 'x'.repeat(MAX_KEY_LENGTH) }))).toEqual({ key: 'x'.repeat(MAX_KEY_LENGTH) });
  });

  it('parses the three forms and refuses the rest', () => {
    expect(parseOrderingSpec('idempotencyKey')).toEqual({ from: 'idempotencyKey' });
    expect(parseOrderingSpec('header:X-A')).toEqual({ from: 'header', name: 'x-a' });
    expect(parseOrderingSpec('json:$.a.b')).toEqual({ from: 'json', path: ['a', 'b'] });
    for (const bad of ['query:x', 'json:a', 'header:a b', 'customer']) expect(typeof parseOrderingSpec(bad)).toBe('string');
  });
});

import { describe, expect, it } from 'vitest';
import { FILTER_LIMITS, matchesFilter, parseFilter, type CompiledFilter, type FilterDocument } from '../../src/routing/filter.js';

const headers = { 'x-shop': 'a.myshopify.com', 'x-topic': 'orders/create', 'x-attempt': '2' };
const order: FilterDocument = {
  headers,
  body: {
    type: 'order.created',
    created_at: '2024-05-01T10:00:00Z',
    livemode: true,
    discount: 0,
    data: {
      object: {
        amount: 1500,
        currency: 'eur',
        coupon: null,
        customer: { tier: 'premium', email: 'ada@shop.example' },
        tags: ['gift', 'express'],
        items: [
          { sku: 'A1', qty: 2 },
          { sku: 'B2', qty: 12 },
        ],
        metadata: {},
      },
    },
  },
};
const amountAsString: FilterDocument = { headers, body: { type: 'order.created', data: { object: { amount: '1500' } } } };
const notJson: FilterDocument = { headers, body: null };
const arrayBody: FilterDocument = { headers: {}, body: [1, 2, 3] };

function compiled(input: unknown): CompiledFilter {
  const parsed = parseFilter(input);
  if (!parsed.ok) throw new Error(`${parsed.path}: ${parsed.message}`);
  return parsed.filter;
}

/** `{"body": {"data": {"object": inner}}}`, the shape of most rows below. */
const obj = (inner: object): { body: object } => ({ body: { data: { object: inner } } });

describe('payload filters route', () => {
  it.each<[string, unknown, FilterDocument, boolean]>([
    // equality, nesting, implicit AND
    ['empty filter', {}, order, true],
    ['empty scopes', { body: {}, headers: {} }, order, true],
    ['plain value', { body: { type: 'order.created' } }, order, true],
    ['plain value, other', { body: { type: 'order.updated' } }, order, false],
    ['nested plain value', obj({ amount: 1500 }), order, true],
    ['every key must match', obj({ amount: 1500, currency: 'usd' }), order, false],
    ['every key matches', { body: { type: 'order.created', data: { object: { currency: 'eur' } } } }, order, true],
    ['nested object equality is partial', obj({ customer: { tier: 'premium' } }), order, true],
    ['boolean', { body: { livemode: true } }, order, true],
    // operators
    ['$eq', obj({ amount: { $eq: 1500 } }), order, true],
    ['$eq, other', obj({ amount: { $eq: 1501 } }), order, false],
    ['$neq, equal', obj({ amount: { $neq: 1500 } }), order, false],
    ['$neq, different', obj({ amount: { $neq: 99 } }), order, true],
    ['$gt', obj({ amount: { $gt: 1000 } }), order, true],
    ['$gt at the bound', obj({ amount: { $gt: 1500 } }), order, false],
    ['$gte at the bound', obj({ amount: { $gte: 1500 } }), order, true],
    ['$lt at the bound', obj({ amount: { $lt: 1500 } }), order, false],
    ['$lte at the bound', obj({ amount: { $lte: 1500 } }), order, true],
    ['range, inside', obj({ amount: { $gte: 1000, $lt: 2000 } }), order, true],
    ['range, outside', obj({ amount: { $gte: 2000, $lt: 3000 } }), order, false],
    ['$gte on ISO dates', { body: { created_at: { $gte: '2024-01-01' } } }, order, true],
    ['$lt on ISO dates', { body: { created_at: { $lt: '2024-05-01' } } }, order, false],
    ['$in', obj({ currency: { $in: ['usd', 'eur'] } }), order, true],
    ['$in, absent from the list', obj({ currency: { $in: ['usd', 'gbp'] } }), order, false],
    ['$nin', obj({ currency: { $nin: ['usd', 'gbp'] } }), order, true],
    ['$nin, in the list', obj({ currency: { $nin: ['eur'] } }), order, false],
    ['$startsWith', { body: { type: { $startsWith: 'order.' } } }, order, true],
    ['$startsWith, any of several', { body: { type: { $startsWith: ['refund.', 'order.'] } } }, order, true],
    ['$endsWith', { body: { type: { $endsWith: '.created' } } }, order, true],
    ['$endsWith, other', { body: { type: { $endsWith: '.updated' } } }, order, false],
    ['$exist: true', obj({ customer: { email: { $exist: true } } }), order, true],
    ['$exist: true, absent', obj({ refunded_at: { $exist: true } }), order, false],
    ['$exist: false, absent', obj({ refunded_at: { $exist: false } }), order, true],
    ['$exist: false, present', obj({ currency: { $exist: false } }), order, false],
    ['$exist with another operator', obj({ customer: { email: { $exist: true, $endsWith: '@shop.example' } } }), order, true],
    // type mismatches: never coerced
    ['number filter, string value', obj({ amount: { $gte: 1000 } }), amountAsString, false],
    ['string filter, number value', obj({ amount: { $gte: '1000' } }), order, false],
    ['plain number vs string', obj({ amount: 1500 }), amountAsString, false],
    ['0 is not false', { body: { discount: false } }, order, false],
    ['true is not "true"', { body: { livemode: 'true' } }, order, false],
    ['$startsWith on a number', obj({ amount: { $startsWith: '15' } }), order, false],
    ['object filter on a string', { body: { type: { name: 'order.created' } } }, order, false],
    // null and absent keys
    ['null equals null', obj({ coupon: null }), order, true],
    ['$eq null', obj({ coupon: { $eq: null } }), order, true],
    ['$neq null on null', obj({ coupon: { $neq: null } }), order, false],
    ['$exist: true on null', obj({ coupon: { $exist: true } }), order, true],
    ['$exist: false on null', obj({ coupon: { $exist: false } }), order, false],
    ['null does not match an absent key', obj({ refund: null }), order, false],
    ['absent nested object', obj({ refund: { id: 're_1' } }), order, false],
    ['$neq on an absent key fails', obj({ status: { $neq: 'void' } }), order, false],
    ['$nin on an absent key fails', obj({ status: { $nin: ['void'] } }), order, false],
    ['$not on an absent key passes', obj({ status: { $not: 'void' } }), order, true],
    ['$exist: false under an absent parent fails', obj({ refund: { id: { $exist: false } } }), order, false],
    ['absent or small', obj({ refund_amount: { $or: [{ $exist: false }, { $lt: 100 }] } }), order, true],
    // arrays
    ['array contains', obj({ tags: 'gift' }), order, true],
    ['array does not contain', obj({ tags: 'sale' }), order, false],
    ['array contains all listed', obj({ tags: ['express', 'gift'] }), order, true],
    ['array lacks one listed', obj({ tags: ['gift', 'sale'] }), order, false],
    ['plain array against a string', obj({ currency: ['eur'] }), order, false],
    ['$eq with an array is exact', obj({ tags: { $eq: ['gift', 'express'] } }), order, true],
    ['$eq with an array, not exact', obj({ tags: { $eq: ['gift'] } }), order, false],
    ['$eq with a primitive: any element', obj({ tags: { $eq: 'express' } }), order, true],
    ['$neq: no element may equal', obj({ tags: { $neq: 'gift' } }), order, false],
    ['$neq: no element equals', obj({ tags: { $neq: 'sale' } }), order, true],
    ['$in on an array', obj({ tags: { $in: ['sale', 'express'] } }), order, true],
    ['$nin on an array', obj({ tags: { $nin: ['sale', 'gift'] } }), order, false],
    ['$startsWith on an array', obj({ tags: { $startsWith: 'exp' } }), order, true],
    ['$exist on an array', obj({ tags: { $exist: true } }), order, true],
    ['array of objects: one element', obj({ items: { sku: 'B2' } }), order, true],
    ['array of objects: keys on one element', obj({ items: { sku: 'A1', qty: 12 } }), order, false],
    ['array of objects: operator', obj({ items: { qty: { $gt: 10 } } }), order, true],
    ['array of objects: operator, none', obj({ items: { qty: { $gt: 20 } } }), order, false],
    ['array of objects: contains all', obj({ items: [{ sku: 'A1' }, { sku: 'B2', qty: { $gte: 12 } }] }), order, true],
    ['operators on one element together', { body: { n: { $gt: 1, $lt: 3 } } }, { headers, body: { n: [0, 5] } }, false],
    ['deep $eq is exact, key order aside', obj({ customer: { $eq: { email: 'ada@shop.example', tier: 'premium' } } }), order, true],
    ['deep $eq is exact', obj({ customer: { $eq: { tier: 'premium' } } }), order, false],
    ['$eq empty object', obj({ metadata: { $eq: {} } }), order, true],
    ['$in with objects', obj({ items: { $in: [{ sku: 'B2', qty: 12 }] } }), order, true],
    // $or, $and, $not
    ['$or, second', { body: { $or: [{ type: 'order.updated' }, obj({ amount: { $gte: 1000 } }).body] } }, order, true],
    ['$or, none', { body: { $or: [{ type: 'order.updated' }, { livemode: false }] } }, order, false],
    ['$or of values', { body: { type: { $or: ['order.created', 'order.updated'] } } }, order, true],
    ['$and', obj({ amount: { $and: [{ $gte: 1000 }, { $lte: 2000 }] } }), order, true],
    ['$and, one fails', obj({ amount: { $and: [{ $gte: 1000 }, { $lte: 1200 }] } }), order, false],
    ['$and of $or', { body: { $and: [{ livemode: true }, { $or: [{ type: 'x' }, { discount: 0 }] }] } }, order, true],
    ['$not', { body: { $not: { type: 'order.created' } } }, order, false],
    ['$not beside keys', { body: { type: 'order.created', $not: obj({ currency: 'usd' }).body } }, order, true],
    ['$not of $or', { body: { $not: { $or: [{ type: 'x' }, { discount: 1 }] } } }, order, true],
    ['$not on an array', obj({ tags: { $not: 'gift' } }), order, false],
    ['$not of an operator', { body: { type: { $not: { $startsWith: 'refund.' } } } }, order, true],
    // headers
    ['header equality', { headers: { 'x-shop': 'a.myshopify.com' } }, order, true],
    ['header, other value', { headers: { 'x-shop': 'b.myshopify.com' } }, order, false],
    ['header names ignore case', { headers: { 'X-Shop': 'a.myshopify.com' } }, order, true],
    ['header names ignore case under $or', { headers: { $or: [{ 'X-Topic': 'orders/paid' }, { 'X-Shop': { $endsWith: '.myshopify.com' } }] } }, order, true],
    ['absent header', { headers: { 'x-hmac': { $exist: false } } }, order, true],
    ['header values are strings', { headers: { 'x-attempt': 2 } }, order, false],
    ['body and headers both pass', { body: { type: 'order.created' }, headers: { 'x-topic': 'orders/create' } }, order, true],
    ['body passes, headers do not', { body: { type: 'order.created' }, headers: { 'x-topic': 'orders/paid' } }, order, false],
    // bodies that are not objects
    ['body filter on a non-JSON body', { body: { type: 'order.created' } }, notJson, false],
    ['$exist: false on a non-JSON body', { body: { type: { $exist: false } } }, notJson, false],
    ['body: null matches a non-JSON body', { body: null }, notJson, true],
    ['headers only, non-JSON body', { headers: { 'x-shop': 'a.myshopify.com' } }, notJson, true],
    ['array body contains', { body: 3 }, arrayBody, true],
    ['array body, operator', { body: { $gt: 2 } }, arrayBody, true],
    ['array body contains all', { body: [1, 3] }, arrayBody, true],
    // own keys only
    ['inherited keys are absent', { body: { constructor: { $exist: true } } }, order, false],
    ['inherited keys do not match', { body: { toString: { $exist: false } } }, order, true],
  ])('%s', (_name, filter, doc, expected) => {
    expect(matchesFilter(compiled(filter), doc)).toBe(expected);
  });

  it('passes everything without a filter', () => {
    expect(matchesFilter(null, order)).toBe(true);
    expect(matchesFilter(undefined, notJson)).toBe(true);
  });

  it('treats "__proto__" from JSON.parse as an ordinary key', () => {
    const body = JSON.parse('{"__proto__": {"x": 1}, "a": {"__proto__": 2}}') as FilterDocument['body'];
    const doc: FilterDocument = { headers, body };
    expect(matchesFilter(compiled(JSON.parse('{"body": {"__proto__": {"x": 1}}}')), doc)).toBe(true);
    expect(matchesFilter(compiled(JSON.parse('{"body": {"a": {"$eq": {"__proto__": 2}}}}')), doc)).toBe(true);
    expect(matchesFilter(compiled(JSON.parse('{"body": {"__proto__": {"x": 1}}}')), { headers, body: {} })).toBe(false);
  });

  it('compiles a copy: changing the input afterwards changes nothing', () => {
    const input = { body: { tags: { $in: ['gift'] }, data: { object: { customer: { $eq: { tier: 'premium' } } } } } };
    const filter = compiled(input);
    input.body.tags.$in.push('sale');
    input.body.data.object.customer.$eq.tier = 'basic';
    expect(matchesFilter(filter, { headers, body: { tags: ['sale'] } })).toBe(false);
    expect(matchesFilter(filter, { headers, body: { tags: ['gift'], data: { object: { customer: { tier: 'premium' } } } } })).toBe(true);
  });

  it('accepts the example of the documentation', () => {
    const filter = compiled({ body: { data: { object: { amount: { $gte: 1000 } } } }, headers: { 'x-shop': 'a.myshopify.com' } });
    expect(matchesFilter(filter, order)).toBe(true);
    expect(matchesFilter(filter, { ...order, headers: { 'x-shop': 'b.myshopify.com' } })).toBe(false);
  });
});

/** `levels` objects nested under one another by the key `k`, the innermost holding `1`. */
function chain(levels: number): unknown {
  let inner: unknown = 1;
  for (let i = 0; i < levels; i++) inner = { k: inner };
  return inner;
}

describe('invalid filters are refused', () => {
  it.each<[string, unknown, string, string]>([
    ['not an object', 'type=order.created', 'top level', 'JSON object'],
    ['an array', [{ body: {} }], 'top level', 'JSON object'],
    ['null', null, 'top level', 'JSON object'],
    ['another scope', { query: { a: 1 } }, 'top level', 'only "body" and "headers" may be filtered'],
    ['an operator at top level', { $or: [{ body: {} }] }, 'top level', 'only "body" and "headers" may be filtered'],
    ['unknown operator', obj({ amount: { $gtx: 1 } }), 'body.data.object.amount', 'unknown operator $gtx'],
    ['Mongo spelling', { body: { a: { $exists: true } } }, 'body.a', 'unknown operator $exists'],
    ['$in with a string', { body: { tags: { $in: 'gift' } } }, 'body.tags', '$in needs an array'],
    ['$nin with a number', { body: { n: { $nin: 5 } } }, 'body.n', '$nin needs an array'],
    ['$in empty', { body: { tags: { $in: [] } } }, 'body.tags', '$in needs at least one value'],
    ['$gt with a boolean', { body: { n: { $gt: true } } }, 'body.n', '$gt needs a number or a string'],
    ['$lte with null', { body: { n: { $lte: null } } }, 'body.n', '$lte needs a number or a string'],
    ['$gte with an array', { body: { n: { $gte: [1] } } }, 'body.n', '$gte needs a number or a string'],
    ['$exist with a string', { body: { n: { $exist: 'yes' } } }, 'body.n', '$exist needs true or false'],
    ['$startsWith with a number', { body: { s: { $startsWith: 5 } } }, 'body.s', '$startsWith needs a string'],
    ['$endsWith with numbers', { body: { s: { $endsWith: [1] } } }, 'body.s', '$endsWith needs a string'],
    ['$startsWith empty', { body: { s: { $startsWith: [] } } }, 'body.s', '$startsWith needs a string'],
    ['$or with an object', { body: { $or: { a: 1 } } }, 'body', '$or needs a non-empty array'],
    ['$and empty', { body: { $and: [] } }, 'body', '$and needs a non-empty array'],
    ['bad operator inside $or', { body: { $or: [{ a: 1 }, { b: { $bad: 1 } }] } }, 'body.$or[1].b', 'unknown operator $bad'],
    ['bad operator inside $not', { body: { $not: { a: { $regex: 'x' } } } }, 'body.$not.a', 'unknown operator $regex'],
    ['empty nested object', { body: { data: {} } }, 'body.data', 'empty object'],
    ['empty array', { body: { tags: [] } }, 'body.tags', 'empty array'],
    ['headers not an object', { headers: 'x-shop' }, 'headers', 'needs an object'],
    ['bad operator under a header', { headers: { 'X-Shop': { $like: 'a' } } }, 'headers.X-Shop', 'unknown operator $like'],
    ['undefined', { body: { a: undefined } }, 'body.a', 'not a JSON value'],
    ['NaN operand', { body: { a: { $eq: Number.NaN } } }, 'body.a.$eq', 'not a JSON value'],
    ['Infinity', { body: { a: Number.POSITIVE_INFINITY } }, 'body.a', 'not a JSON value'],
    ['a Date', { body: { a: { $eq: new Date(0) } } }, 'body.a.$eq', 'not a JSON value'],
    ['a function in $in', { body: { a: { $in: [1, () => 2] } } }, 'body.a.$in[1]', 'not a JSON value'],
    // body is level 1, so its tenth nested object holds a value at level 11
    ['too deep', { body: chain(10) }, 'body.k.k.k.k.k.k.k.k.k.k', 'nested deeper than 10 levels'],
    // an $or array is a level and so is each of its filters
    ['too deep through $or', { body: { $or: [chain(8)] } }, 'body.$or[0].k.k.k.k.k.k.k.k', 'nested deeper than 10 levels'],
    ['too many values', { body: { a: { $in: Array.from({ length: FILTER_LIMITS.maxValues }, (_, i) => i) } } }, 'top level', 'more than 200 values'],
  ])('%s', (_name, filter, path, message) => {
    const parsed = parseFilter(filter);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.path).toBe(path);
    expect(parsed.message).toContain(message);
  });

  it('accepts filters at the limits', () => {
    expect(parseFilter({ body: chain(FILTER_LIMITS.maxDepth - 1) }).ok).toBe(true);
    expect(parseFilter({ body: { $or: [chain(FILTER_LIMITS.maxDepth - 3)] } }).ok).toBe(true);
    // body, a and the $in array are values too
    const values = Array.from({ length: FILTER_LIMITS.maxValues - 3 }, (_, i) => i);
    expect(parseFilter({ body: { a: { $in: values } } }).ok).toBe(true);
  });
});

import type { CompiledFilter, FilterNode, Json, Logic, ValueTest } from './filter-tree.js';

export { FILTER_LIMITS, parseFilter, type ParseResult } from './filter-parse.js';
export type { CompiledFilter, Json } from './filter-tree.js';

/** What a filter sees of an event: the parsed JSON body (null when it is not JSON) and the headers. */
export interface FilterDocument {
  readonly body: Json;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Payload filters, second half: whether an event passes a subscription's compiled filter.
 * Semantics are Hookdeck's (Outpost runs a port of its matcher; Convoy agrees on the common cases)
 * except where marked "unlike Hookdeck".
 *
 * - `body` and `headers` must both pass; no filter (`null`) passes everything.
 * - An object matches an object whose listed keys all match (other keys are ignored); a plain
 *   primitive means equality. Values are never coerced: `1000` ≠ `"1000"`, `0` ≠ `false`.
 * - An absent key fails every condition except `$exist: false` and logic: `$neq`/`$nin` on it
 *   fail (Hookdeck), while `$and`/`$or`/`$not` ask their sub-filters about the absent value, so
 *   `{"$not": "x"}` or `{"$or": [{"$exist": false}, {"$lt": 5}]}` pass (unlike Hookdeck, which
 *   fails them). Absent is not null: `{"k": null}` needs `k` present and null. A nested key's
 *   parents must be objects for any condition on it to pass, `$exist: false` included.
 * - Arrays: a plain primitive, a nested object, or the operators `$eq $gt $gte $lt $lte $in
 *   $startsWith $endsWith` (all on one same element) match if any element does, "array contains"
 *   (unlike Hookdeck for operators, which it applies to the array whole). An operand that is itself
 *   an array, as in `{"$eq": ["a", "b"]}`, also matches the whole array exactly. A plain array
 *   `["a", "b"]` needs the document array to contain every item (Hookdeck). `$neq`/`$nin` are exact
 *   negations: no element may equal. `$exist` looks at the array itself; `$and`/`$or`/`$not` hand
 *   it whole to their sub-filters.
 * - `$gt $gte $lt $lte` compare numbers with numbers and strings with strings (code-unit order,
 *   so ISO-8601 timestamps compare chronologically); any other pairing fails.
 * - `$in`/`$nin` take an array of values (Convoy); Hookdeck's substring form is refused.
 */
export function matchesFilter(filter: CompiledFilter | null | undefined, doc: FilterDocument): boolean {
  if (!filter) return true;
  return (filter.body === null || matchNode(filter.body, doc.body)) && (filter.headers === null || matchNode(filter.headers, doc.headers));
}

/** `undefined` is an absent key: JSON has no undefined, so it cannot be confused with a value. */
function matchNode(node: FilterNode, value: Json | undefined): boolean {
  if (node.exist !== null && node.exist !== (value !== undefined)) return false;
  if (value === undefined) {
    if (node.needsValue) return false;
  } else {
    if (node.tests.length > 0 && !someCandidate(node.tests, value)) return false;
    for (const tests of node.negated) if (someCandidate(tests, value)) return false;
    if (node.fields.length > 0 && !fieldsMatch(node.fields, value)) return false;
    for (const item of node.containsAll) if (!someElement(item, value)) return false;
  }
  for (const logic of node.logic) if (!logicMatches(logic, value)) return false;
  return true;
}

function logicMatches(logic: Logic, value: Json | undefined): boolean {
  if (logic.op === '$not') return !matchNode(logic.node, value);
  const wanted = logic.op === '$or';
  for (const node of logic.nodes) if (matchNode(node, value) === wanted) return wanted;
  return !wanted;
}

/** The value, or one element of it, passes every test. */
function someCandidate(tests: readonly ValueTest[], value: Json): boolean {
  if (passesAll(tests, value)) return true;
  if (Array.isArray(value)) for (const element of value) if (passesAll(tests, element)) return true;
  return false;
}

function passesAll(tests: readonly ValueTest[], candidate: Json): boolean {
  for (const test of tests) if (!passes(test, candidate)) return false;
  return true;
}

function passes(test: ValueTest, candidate: Json): boolean {
  switch (test.op) {
    case '$eq':
      return jsonEqual(candidate, test.value);
    case '$in':
      for (const value of test.values) if (jsonEqual(candidate, value)) return true;
      return false;
    case '$gt':
      return compare(candidate, test.value) > 0;
    case '$gte':
      return compare(candidate, test.value) >= 0;
    case '$lt':
      return compare(candidate, test.value) < 0;
    case '$lte':
      return compare(candidate, test.value) <= 0;
    case '$startsWith':
      if (typeof candidate === 'string') for (const prefix of test.values) if (candidate.startsWith(prefix)) return true;
      return false;
    case '$endsWith':
      if (typeof candidate === 'string') for (const suffix of test.values) if (candidate.endsWith(suffix)) return true;
      return false;
  }
}

/** Sign of `candidate - operand`, or NaN (every comparison with it is false) across types. */
function compare(candidate: Json, operand: number | string): number {
  if (typeof candidate !== typeof operand) return Number.NaN;
  const same = candidate as number | string; // same typeof as the operand: both numbers or both strings
  return same < operand ? -1 : same > operand ? 1 : 0;
}

function fieldsMatch(fields: FilterNode['fields'], value: Json): boolean {
  if (!Array.isArray(value)) return isObject(value) && allFields(fields, value);
  for (const element of value) if (isObject(element) && allFields(fields, element)) return true;
  return false;
}

function allFields(fields: FilterNode['fields'], object: { [key: string]: Json }): boolean {
  // Own keys only: a document's `constructor` or `__proto__` must not resolve to Object.prototype's.
  for (const [key, node] of fields) if (!matchNode(node, Object.hasOwn(object, key) ? object[key] : undefined)) return false;
  return true;
}

function someElement(node: FilterNode, value: Json): boolean {
  if (Array.isArray(value)) for (const element of value) if (matchNode(node, element)) return true;
  return false;
}

/** Deep equality; key order does not matter. Recursion is bounded by the filter's own depth. */
function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (!isObject(a) && !Array.isArray(a)) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (!isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!Object.hasOwn(b, key) || !jsonEqual(a[key], b[key])) return false;
  return true;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

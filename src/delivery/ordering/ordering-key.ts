import { createHash } from 'node:crypto';
import { parseFieldSpec } from '../../sources/field-spec.js';
import type { Json } from '../../routing/filter.js';

/**
 * Where a relay reads a delivery's ordering key: a dotted JSON path into the event's body, a
 * header the event kept, or the event's idempotency key. The same spec syntax as a source's
 * `eventTypeFrom` (sources/field-spec.ts), less `query:`, which an event does not keep.
 */
export type OrderingSpec = { from: 'json'; path: string[] } | { from: 'header'; name: string } | { from: 'idempotencyKey' };

/** What the key is read from: the stored event, its body parsed at most once. */
export interface KeyedEvent {
  headers: Record<string, string>;
  idempotencyKey: string | null;
  /** The body as JSON, null when it is not JSON. */
  json: () => Json;
}

export type OrderingKey = { key: string } | { unordered: string };

/**
 * Keys longer than this are stored as their SHA-256: the key is in an index, and its text comes
 * from the network. So is one holding NUL, which PostgreSQL's `text` refuses: stored as it is,
 * it would fail the whole group commit it shares with other requests.
 */
export const MAX_KEY_LENGTH = 200;

const IDEMPOTENCY_KEY = 'idempotencyKey';

/** Parses `orderingKeyFrom`, or returns why it is invalid. */
export function parseOrderingSpec(text: string): OrderingSpec | string {
  if (text === IDEMPOTENCY_KEY) return { from: 'idempotencyKey' };
  if (text.startsWith('query:')) return 'an event does not keep its query string: use "json:$.a.b", "header:X-Name" or "idempotencyKey"';
  const spec = parseFieldSpec(text);
  if (typeof spec === 'string') return `${spec.replace(' or "query:name"', '')}, or "idempotencyKey"`;
  return spec.from === 'query' ? 'unreachable' : spec;
}

const parsed = new Map<string, OrderingSpec | null>();
const MAX_PARSED = 1000;

/** A relay's saved spec, parsed once per process; one that no longer parses orders nothing. */
function specOf(text: string): OrderingSpec | null {
  let spec = parsed.get(text);
  if (spec === undefined) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    const result = parseOrderingSpec(text);
    spec = typeof result === 'string' ? null : result;
    parsed.set(text, spec);
  }
  return spec;
}

/**
 * The ordering key of `event` for a relay whose `orderingKeyFrom` is `from`, or why the
 * delivery goes unordered: no value there, or one that is not a string, number or boolean.
 */
export function orderingKeyOf(from: string, event: KeyedEvent): OrderingKey {
  const spec = specOf(from);
  if (!spec) return { unordered: `the relay's orderingKeyFrom (${from}) is not valid` };
  const value = read(spec, event);
  if (value === undefined || value === '') return { unordered: `the event has no value at ${from}${spec.from === 'header' ? ' (a source keeps only the headers it names in keepHeaders)' : ''}` };
  if (value === null) return { unordered: `the value at ${from} is not a string, number or boolean` };
  return { key: value.length > MAX_KEY_LENGTH || value.includes('\0') ? `sha256:${createHash('sha256').update(value).digest('hex')}` : value };
}

/** The value at the spec: undefined when absent, null when present but not a scalar. */
function read(spec: OrderingSpec, event: KeyedEvent): string | null | undefined {
  switch (spec.from) {
    case 'idempotencyKey':
      return event.idempotencyKey ?? undefined;
    case 'header':
      return event.headers[spec.name];
    case 'json': {
      let value: unknown = event.json();
      for (const key of spec.path) {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
        value = (value as Record<string, unknown>)[key];
      }
      if (value === null || value === undefined) return undefined;
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
    }
  }
}

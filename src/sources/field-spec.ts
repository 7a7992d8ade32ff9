import { header, type IngestRequest } from './request.js';

/**
 * Where a source reads its event type or idempotency key from: `header:X-Name`,
 * `json:$.a.b` (a dotted path into the JSON body) or `query:event_type`.
 */
export type FieldSpec = { from: 'header'; name: string } | { from: 'json'; path: string[] } | { from: 'query'; name: string };

const SPEC = /^(header|json|query):(.+)$/;
const JSON_PATH = /^\$(\.[A-Za-z0-9_-]+)+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses a spec, or returns the reason it is invalid. */
export function parseFieldSpec(text: string): FieldSpec | string {
  const match = SPEC.exec(text);
  if (!match) return 'must look like "header:X-Name", "json:$.a.b" or "query:name"';
  const [, from, rest] = match as unknown as [string, string, string];
  if (from === 'header') return HEADER_NAME.test(rest) ? { from, name: rest.toLowerCase() } : `"${rest}" is not a valid header name`;
  if (from === 'query') return { from, name: rest };
  if (!JSON_PATH.test(rest)) return `"${rest}" is not a JSON path like $.a.b`;
  return { from: 'json', path: rest.split('.').slice(1) };
}

/** The value the spec points at, as a string; `undefined` when absent or not a scalar. */
export function readField(spec: FieldSpec, request: IngestRequest): string | undefined {
  switch (spec.from) {
    case 'header':
      return header(request, spec.name) || undefined;
    case 'query':
      return request.query.get(spec.name) ?? undefined;
    case 'json': {
      let value: unknown = request.json();
      for (const key of spec.path) {
        if (value === null || typeof value !== 'object') return undefined;
        value = (value as Record<string, unknown>)[key];
      }
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    }
  }
}

export function describeField(spec: FieldSpec): string {
  switch (spec.from) {
    case 'header':
      return `header ${spec.name}`;
    case 'query':
      return `query parameter ${spec.name}`;
    case 'json':
      return `JSON field $.${spec.path.join('.')}`;
  }
}

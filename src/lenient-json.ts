/**
 * The JSON value of a body that may not be JSON at all (a form post, say): `undefined` when
 * it does not parse, never an exception. JSON itself has no `undefined`, so the answer is
 * never ambiguous. Callers decide what "not JSON" means to them (a fallback type, a null
 * filter document, a null payload).
 */
export function parseJsonOrUndefined(text: string | Buffer): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

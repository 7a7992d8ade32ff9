/**
 * Printable ASCII (0x20–0x7E) without `%` and without a space at either end: sent as is, so
 * receivers that read plain types see no change. A space at an end would be trimmed by the
 * receiver's HTTP parser, so such a value is encoded too.
 */
const AS_IS = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/;

/** RFC 3986 unreserved characters, the only ones an encoded value keeps. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * The `hookyard-event-type` header for an event type, which may be any UTF-8 text (DESIGN.md
 * "Ingest contract"): as is when an HTTP header carries it unchanged, otherwise its UTF-8
 * bytes percent-encoded (RFC 3986, as `encodeURIComponent` or Python's `quote(type, safe='')`
 * do). An unencoded value never holds `%`, so a receiver may always percent-decode. A header
 * cannot hold CR, LF or most non-ASCII text: sent raw, such a type failed every attempt.
 */
export function eventTypeHeader(type: string): string {
  if (AS_IS.test(type)) return type;
  let encoded = '';
  for (const byte of Buffer.from(type, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

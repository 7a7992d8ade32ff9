import type { IncomingHttpHeaders } from 'node:http';

/**
 * What an `X-Request-Id` must look like to name a request: the ids reverse proxies make (UUIDs,
 * nginx's 32 hex, Heroku's and Envoy's) and nothing else: no spaces, quotes or control
 * characters to break a log line or a header, and a length that cannot bloat either.
 */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/**
 * The request's own id, when it may serve as its correlation id: only when the request came
 * through one of the operator's reverse proxies (HOOKYARD_TRUSTED_PROXIES), which set it, and
 * only in the strict shape above. Anyone else could send any id, such as another request's, and
 * make two webhooks look like one in the logs; theirs is ignored and Hookyard makes its own.
 */
export function trustedRequestId(headers: IncomingHttpHeaders, viaTrustedProxy: boolean): string | undefined {
  if (!viaTrustedProxy) return undefined;
  const value = headers['x-request-id'];
  return typeof value === 'string' && value.length <= 128 && REQUEST_ID.test(value) ? value : undefined;
}

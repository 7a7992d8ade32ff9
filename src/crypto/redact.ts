/**
 * How secrets that live inside ordinary values are shown: relay URLs (Slack, Discord and
 * Teams carry their credential in the path, others in `user:password@` or the query),
 * signatures (enough to tell two apart, never enough to replay), and which headers are
 * secrets (never stored, forwarded or logged).
 */

import { CREDENTIAL_HEADERS, SIGNATURE_HEADERS } from '../log.js';

/** What stands for a hidden part of a URL. */
export const MASK = '***';

/**
 * A URL with its credentials, path, query and fragment masked: `https://hooks.slack.com/***`.
 * Scheme, host and port stay, so two relays can still be told apart. A URL with nothing to
 * hide (no credentials, path `/`, no query) is shown as `scheme://host[:port]/`; text that is
 * not a URL is masked whole.
 */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return MASK;
  }
  // An EMAIL relay's `smtp://host:port` has an empty path (not a special scheme): nothing to hide.
  const hidden = parsed.username || parsed.password || (parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash;
  return `${parsed.protocol}//${parsed.host}/${hidden ? MASK : ''}`;
}

/** A URL without its password (`user:***@host`), for those who may see the rest of it. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    return parsed.toString();
  } catch {
    return MASK;
  }
}

/** How many characters of a signature are kept. */
const KEPT = 4;

/**
 * A signature header value with every signature cut to its last 4 characters: the Standard
 * Webhooks list `v1,<b64> v1,<b64>` becomes `v1,…a1b2 v1,…c3d4`; any other value keeps
 * its prefix up to the first `,` or `=` (`sha256=…a1b2`) or is cut whole (`…a1b2`).
 */
export function truncateSignatures(value: string): string {
  return value
    .split(' ')
    .map((entry) => {
      const cut = entry.search(/[,=]/) + 1;
      const prefix = cut > 0 && cut < entry.length ? entry.slice(0, cut) : '';
      const rest = entry.slice(prefix.length);
      return rest.length <= KEPT ? `${prefix}…` : `${prefix}…${rest.slice(-KEPT)}`;
    })
    .join(' ');
}

// The names live in log.ts, the lowest module that must hide them; this one adds the pattern.
export { CREDENTIAL_HEADERS, SIGNATURE_HEADERS };

const SIGNATURE_LIKE = /signature|hmac/i;

/** A header that carries a credential or a signature: never stored on an event, so never forwarded. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return CREDENTIAL_HEADERS.includes(lower) || SIGNATURE_HEADERS.includes(lower) || SIGNATURE_LIKE.test(lower);
}

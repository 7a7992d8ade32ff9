import { AppError } from '../../errors.js';
import { header } from '../request.js';
import { base64Pattern, hmac, safeEqual, sha256 } from '../verify.js';
import type { Preset } from './preset.js';

const SIGNATURE_HEADER = 'x-twilio-signature';
const FORMAT = base64Pattern(20);
/** Twilio's validator compares the lowercase hex string, so that is the only form that can verify. */
const BODY_HASH = /^[0-9a-f]{64}$/;
const AUTHORITY = /^(https?:\/\/)([^/?#]*)/i;

/** The URL Twilio called: the source's public URL plus this request's query, as received. */
function calledUrl(publicUrl: string, rawQuery: string): string {
  if (!rawQuery) return publicUrl;
  return `${publicUrl}${publicUrl.includes('?') ? '&' : '?'}${rawQuery}`;
}

/**
 * The URL with and without its scheme's default port, as twilio's own validator tries both:
 * what Twilio signs depends on how the webhook URL was entered. A non-default port stays.
 */
function portVariants(url: string): string[] {
  const match = AUTHORITY.exec(url);
  if (!match) return [url];
  const [prefix, scheme, authority] = match as unknown as [string, string, string];
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const userInfo = authority.slice(0, authority.lastIndexOf('@') + 1);
  const hostAndPort = authority.slice(userInfo.length);
  // In an IPv6 literal the port's colon is the one after the closing bracket.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  const host = portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart);
  const port = portStart === -1 ? '' : hostAndPort.slice(portStart);
  if (port !== '' && port !== defaultPort) return [url];
  const rest = url.slice(prefix.length);
  return [`${scheme}${userInfo}${host}${rest}`, `${scheme}${userInfo}${host}${defaultPort}${rest}`];
}

/**
 * A form post's parameters as Twilio signs them: sorted by name (code-unit order), each
 * `name + value`, a repeated name once per distinct value in sorted order. The body is read
 * as a form whatever its content type, so a signature made without parameters never
 * vouches for a body that carries some.
 */
function signedParams(body: Buffer): string {
  const params = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    params.set(name, (params.get(name) ?? new Set()).add(value));
  }
  return [...params.keys()]
    .sort()
    .map((name) => [...params.get(name)!].sort().map((value) => name + value).join(''))
    .join('');
}

/**
 * `X-Twilio-Signature: <base64 HMAC-SHA1(url + sorted form params)>` under the auth token's
 * UTF-8. JSON posts carry `bodySHA256=<hex SHA-256(body)>` in the URL instead of signed
 * params; the URL signature covers that hash and the hash must match the body.
 */
export const twilio: Preset = {
  requiresJson: false,
  signatureHeaders: () => [SIGNATURE_HEADER],
  keptHeaders: ['i-twilio-idempotency-token', 'x-home-region', 'x-twilio-webhook-retry'],
  verify(request, source) {
    const signature = header(request, SIGNATURE_HEADER);
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', 'missing X-Twilio-Signature header');
    if (!FORMAT.test(signature)) throw new AppError('MALFORMED_SIGNATURE', 'X-Twilio-Signature must be the base64 of a 20-byte HMAC-SHA1');
    // Without it there is no URL to sign; refusing beats guessing from the Host header.
    if (!source.publicUrl) throw new AppError('INVALID_SIGNATURE', 'this Twilio source has no publicUrl, so its signatures cannot be checked');
    const bodyHash = request.query.get('bodySHA256');
    if (bodyHash !== null && !BODY_HASH.test(bodyHash)) throw new AppError('MALFORMED_SIGNATURE', 'bodySHA256 must be 64 lowercase hex characters');

    const given = Buffer.from(signature, 'base64');
    const params = bodyHash === null ? signedParams(request.body) : '';
    const urls = portVariants(calledUrl(source.publicUrl, request.rawQuery));
    if (!source.secrets.some((secret) => urls.some((url) => safeEqual(hmac('sha1', secret, url, params), given)))) {
      throw new AppError('INVALID_SIGNATURE', 'X-Twilio-Signature does not match the URL and parameters under any of the source secrets');
    }
    if (bodyHash !== null && !safeEqual(sha256(request.body), Buffer.from(bodyHash, 'hex'))) {
      throw new AppError('INVALID_SIGNATURE', 'the body does not match the signed bodySHA256');
    }
  },
  eventType: { fixed: 'twilio' },
  eventTypeRequired: false,
  idempotencyKey: { from: 'header', name: 'i-twilio-idempotency-token' },
};

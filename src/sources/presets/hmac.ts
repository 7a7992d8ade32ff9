import { AppError } from '../../errors.js';
import { header } from '../request.js';
import { base64Pattern, checkTimestamp, DIGEST_BYTES, hexPattern, hmac, safeEqual, type HmacAlgorithm } from '../verify.js';
import type { IngestSource, Preset } from './preset.js';

export const HMAC_DEFAULTS = { header: 'x-signature', algorithm: 'sha256', encoding: 'hex' } as const;
export const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = ['sha256', 'sha1', 'sha512'];
export const HMAC_ENCODINGS = ['hex', 'base64'] as const;

function settings(source: IngestSource) {
  const algorithm = (source.signatureAlgorithm ?? HMAC_DEFAULTS.algorithm) as HmacAlgorithm;
  const encoding = (source.signatureEncoding ?? HMAC_DEFAULTS.encoding) as (typeof HMAC_ENCODINGS)[number];
  const bytes = DIGEST_BYTES[algorithm];
  return {
    header: (source.signatureHeader ?? HMAC_DEFAULTS.header).toLowerCase(),
    algorithm,
    encoding,
    prefix: source.signaturePrefix ?? '',
    format: encoding === 'hex' ? hexPattern(bytes, true) : base64Pattern(bytes),
  };
}

/**
 * Any service with a shared secret: a configurable header, algorithm, encoding and prefix
 * over the raw body. With a timestamp header configured, the signed bytes are
 * `<timestamp>.<body>` and the timestamp must be within the tolerance, either direction.
 */
export const genericHmac: Preset = {
  requiresJson: false,
  signatureHeaders: (source) => [settings(source).header],
  // Nothing is known of a generic sender: it keeps what the source names (eventTypeFrom, ...).
  keptHeaders: [],
  verify(request, source, nowSeconds) {
    const s = settings(source);
    const signature = header(request, s.header);
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', `missing ${s.header} header`);
    const encoded = signature.startsWith(s.prefix) ? signature.slice(s.prefix.length) : undefined;
    if (encoded === undefined || !s.format.test(encoded)) {
      throw new AppError('MALFORMED_SIGNATURE', `${s.header} must be ${s.prefix ? `"${s.prefix}" followed by ` : ''}a ${s.encoding} ${s.algorithm} digest`);
    }
    const given = Buffer.from(encoded, s.encoding);
    const signed: (string | Buffer)[] = [request.body];
    if (source.timestampHeader) {
      const name = source.timestampHeader.toLowerCase();
      const timestamp = header(request, name);
      if (timestamp === undefined) throw new AppError('MISSING_SIGNATURE', `missing ${name} header`);
      checkTimestamp(name, timestamp, nowSeconds, source.toleranceSeconds, 'both');
      signed.unshift(`${timestamp}.`);
    }
    if (!source.secrets.some((secret) => safeEqual(hmac(s.algorithm, secret, ...signed), given))) {
      throw new AppError('INVALID_SIGNATURE', `${s.header} does not match the body under any of the source secrets`);
    }
  },
  eventType: { fixed: 'webhook' },
  eventTypeRequired: false,
  idempotencyKey: null,
};

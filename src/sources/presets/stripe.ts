import { AppError } from '../../errors.js';
import { header } from '../request.js';
import { checkTimestamp, hmac, safeEqual } from '../verify.js';
import type { Preset } from './preset.js';

const SIGNATURE_HEADER = 'stripe-signature';
/** Comma-separated `key=value` pairs and nothing else (no spaces: Stripe sends none). */
const FORMAT = /^[a-z0-9]+=[A-Za-z0-9]+(?:,[a-z0-9]+=[A-Za-z0-9]+)*$/;
/** stripe-node compares the lowercase hex string, so that is the only form that can verify. */
const V1 = /^[0-9a-f]{64}$/;

interface StripeHeader {
  timestamp: string;
  /** Decoded `v1` signatures: one per secret Stripe holds live during a rotation. */
  v1: Buffer[];
}

function parse(value: string): StripeHeader {
  const malformed = (why: string) => new AppError('MALFORMED_SIGNATURE', `Stripe-Signature ${why}`);
  if (!FORMAT.test(value)) throw malformed('must be comma-separated t=<unix>,v1=<hex> pairs');
  const timestamps: string[] = [];
  const v1: Buffer[] = [];
  for (const pair of value.split(',')) {
    const [key, text] = pair.split('=') as [string, string];
    if (key === 't') timestamps.push(text);
    if (key !== 'v1') continue; // v0 (test mode) and future schemes are ignored, as in stripe-node
    if (!V1.test(text)) throw malformed('v1 must be 64 lowercase hex characters');
    v1.push(Buffer.from(text, 'hex'));
  }
  if (timestamps.length !== 1) throw malformed('must carry exactly one t=');
  if (v1.length === 0) throw malformed('carries no v1 signature');
  return { timestamp: timestamps[0]!, v1 };
}

/**
 * `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, HMAC-SHA256 of `<t>.<body>` keyed with the
 * whole secret string, `whsec_` included (unlike Standard Webhooks, which base64-decodes
 * what follows it). The timestamp may be at most the tolerance old; a future one passes,
 * as in stripe-node, so a provider clock ahead of ours never drops events.
 */
export const stripe: Preset = {
  requiresJson: true,
  signatureHeaders: () => [SIGNATURE_HEADER],
  // Stripe's only header of its own is the signature; the type and id live in the body.
  keptHeaders: [],
  verify(request, source, nowSeconds) {
    const value = header(request, SIGNATURE_HEADER);
    if (value === undefined) throw new AppError('MISSING_SIGNATURE', 'missing Stripe-Signature header');
    const { timestamp, v1 } = parse(value);
    checkTimestamp('Stripe-Signature t', timestamp, nowSeconds, source.toleranceSeconds, 'past');
    const verified = source.secrets.some((secret) => {
      const expected = hmac('sha256', secret, `${timestamp}.`, request.body);
      return v1.some((given) => safeEqual(expected, given));
    });
    if (!verified) throw new AppError('INVALID_SIGNATURE', 'no Stripe-Signature v1 matches the body under any of the source secrets');
  },
  eventType: { from: 'json', path: ['type'] },
  eventTypeRequired: false,
  idempotencyKey: { from: 'json', path: ['id'] },
};

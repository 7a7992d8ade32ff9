import { AppError } from '../../errors.js';
import { header, type IngestRequest } from '../request.js';
import { base64Pattern, hmac, safeEqual } from '../verify.js';
import type { Preset } from './preset.js';

/**
 * Shopify's headers come in two families: `X-Shopify-*` and, on newer deliveries, the same
 * names without `X-`. Both are accepted alike, the `X-` one first when a request has both.
 */
function either(request: IngestRequest, name: string): string | undefined {
  return header(request, `x-${name}`) ?? header(request, name);
}

const SIGNATURE = 'shopify-hmac-sha256';
const TOPIC = 'shopify-topic';
const WEBHOOK_ID = 'shopify-webhook-id';
const FORMAT = base64Pattern(32);

/** `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(body)>` under the app secret's UTF-8; no timestamp, dedupe on the webhook id. */
export const shopify: Preset = {
  requiresJson: false,
  signatureHeaders: () => [`x-${SIGNATURE}`, SIGNATURE],
  keptHeaders: [TOPIC, WEBHOOK_ID, 'shopify-shop-domain', 'shopify-api-version', 'shopify-triggered-at', 'shopify-event-id', 'shopify-sub-topic', 'shopify-name']
    .flatMap((name) => [`x-${name}`, name]),
  verify(request, source) {
    const signature = either(request, SIGNATURE);
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', 'missing X-Shopify-Hmac-Sha256 (or shopify-hmac-sha256) header');
    if (!FORMAT.test(signature)) throw new AppError('MALFORMED_SIGNATURE', 'X-Shopify-Hmac-Sha256 must be the base64 of a 32-byte HMAC-SHA256');
    const given = Buffer.from(signature, 'base64');
    if (!source.secrets.some((secret) => safeEqual(hmac('sha256', secret, request.body), given))) {
      throw new AppError('INVALID_SIGNATURE', 'X-Shopify-Hmac-Sha256 does not match the body under any of the source secrets');
    }
  },
  eventType: { from: 'header', name: `x-${TOPIC}` },
  eventTypeRequired: true,
  readEventType(request) {
    const topic = either(request, TOPIC);
    if (!topic) throw new AppError('MISSING_HEADER', 'missing event type: header X-Shopify-Topic (or shopify-topic) is required');
    return topic;
  },
  idempotencyKey: { from: 'header', name: `x-${WEBHOOK_ID}` },
  readIdempotencyKey: (request) => either(request, WEBHOOK_ID) || undefined,
};

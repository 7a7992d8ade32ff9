import { AppError } from '../../errors.js';
import { header, type IngestRequest } from '../request.js';
import { base64Pattern, hmac, safeEqual } from '../verify.js';
import { notificationItems, PLATFORM_SIGNATURE_HEADER, signedData } from './adyen-items.js';
import type { IngestSource, Preset } from './preset.js';

export { checkBasicAuth } from '../verify.js';
export { splitAdyen, type AdyenEvent } from './adyen-items.js';

const KEY = /^[0-9A-Fa-f]{64}$/;
const SIGNATURE = base64Pattern(32);

/** An Adyen HMAC key is 64 hex characters; checked first because Node's hex decoder stops silently at a bad one. */
export function isValidAdyenKey(key: string): boolean {
  return KEY.test(key);
}

/** The live secrets usable as keys, hex-decoded; any other secret could only ever mismatch. */
function keys(source: IngestSource): Buffer[] {
  const valid = source.secrets.filter(isValidAdyenKey).map((key) => Buffer.from(key, 'hex'));
  if (valid.length === 0) throw new AppError('INVALID_SIGNATURE', 'this Adyen source holds no 64-hex HMAC key');
  return valid;
}

function verifyPlatform(request: IngestRequest, source: IngestSource, signature: string): void {
  if (!SIGNATURE.test(signature)) throw new AppError('MALFORMED_SIGNATURE', 'HmacSignature must be the base64 of a 32-byte HMAC-SHA256');
  const given = Buffer.from(signature, 'base64');
  if (!keys(source).some((key) => safeEqual(hmac('sha256', key, request.body), given))) {
    throw new AppError('INVALID_SIGNATURE', 'HmacSignature does not match the body under any of the source keys');
  }
}

/** Every item must verify: one forged item refuses the whole batch, since Adyen signs each separately. */
function verifyNotification(request: IngestRequest, source: IngestSource): void {
  const items = notificationItems(request);
  if (items === undefined) throw new AppError('MISSING_SIGNATURE', 'no HmacSignature header and no notificationItems to verify');
  if (items.length === 0) throw new AppError('MALFORMED_SIGNATURE', 'notificationItems is empty');
  const usable = keys(source);
  items.forEach((item, index) => {
    const where = `notificationItems[${index}]`;
    if (!item) throw new AppError('MALFORMED_SIGNATURE', `${where} has no NotificationRequestItem object`);
    const additional = item.additionalData as Record<string, unknown> | null | undefined;
    const signature = additional !== null && typeof additional === 'object' ? additional.hmacSignature : undefined;
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', `${where} has no additionalData.hmacSignature`);
    if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
      throw new AppError('MALFORMED_SIGNATURE', `${where} hmacSignature must be the base64 of a 32-byte HMAC-SHA256`);
    }
    const given = Buffer.from(signature, 'base64');
    const data = signedData(item);
    if (!usable.some((key) => safeEqual(hmac('sha256', key, data), given))) {
      throw new AppError('INVALID_SIGNATURE', `${where} hmacSignature does not match its signed fields under any of the source keys`);
    }
  });
}

/**
 * Adyen, two modes told apart by the request, with no setting: an `HmacSignature` header is
 * a platform or management webhook, HMAC-SHA256 of the raw body; otherwise a payments
 * notification, each item signed over its eight fields. Keys are hex-decoded. HTTP Basic
 * credentials, when configured, are the route's check (`checkBasicAuth`); one request
 * becomes several events through `splitAdyen`.
 */
export const adyen: Preset = {
  requiresJson: true,
  signatureHeaders: () => [PLATFORM_SIGNATURE_HEADER],
  // Adyen's fields are all in the body; its Basic credentials are never stored.
  keptHeaders: [],
  verify(request, source) {
    const signature = header(request, PLATFORM_SIGNATURE_HEADER);
    if (signature !== undefined) verifyPlatform(request, source, signature);
    else verifyNotification(request, source);
  },
  // Platform webhooks only; notification items take theirs from `splitAdyen`.
  eventType: { from: 'json', path: ['type'] },
  eventTypeRequired: false,
  idempotencyKey: null,
};

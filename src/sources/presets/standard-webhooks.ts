import { whsecKey } from '../../crypto/whsec.js';
import { AppError } from '../../errors.js';
import { header, type IngestRequest } from '../request.js';
import { base64Pattern, checkTimestamp, hmac, safeEqual } from '../verify.js';
import type { Preset } from './preset.js';

/** The specification's header names, and Svix's older names for the same scheme. */
const FAMILIES = [
  { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
  { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
] as const;
type Family = (typeof FAMILIES)[number];

/** Space-separated `<version>,<base64>` entries; versions other than v1 (e.g. asymmetric v1a) are skipped. */
const LIST = /^[a-z0-9]+,[A-Za-z0-9+/]+={0,2}(?: [a-z0-9]+,[A-Za-z0-9+/]+={0,2})*$/;
const V1 = base64Pattern(32);

/** The family whose signature header is present, so id, timestamp and key never mix families. */
function familyOf(request: IngestRequest): Family | undefined {
  return FAMILIES.find((family) => header(request, family.signature) !== undefined);
}

function signatures(family: Family, value: string): Buffer[] {
  if (!LIST.test(value)) throw new AppError('MALFORMED_SIGNATURE', `${family.signature} must be space-separated v1,<base64> entries`);
  const v1 = value.split(' ').filter((entry) => entry.startsWith('v1,')).map((entry) => entry.slice('v1,'.length));
  if (v1.length === 0) throw new AppError('MALFORMED_SIGNATURE', `${family.signature} carries no v1 signature`);
  if (!v1.every((text) => V1.test(text))) throw new AppError('MALFORMED_SIGNATURE', `${family.signature} v1 entries must be the base64 of 32 bytes`);
  return v1.map((text) => Buffer.from(text, 'base64'));
}

/**
 * Standard Webhooks (and Svix): `v1,<base64 HMAC-SHA256(id.timestamp.body)>`, one entry per
 * secret the sender holds live, under the base64-decoded `whsec_` key. The timestamp must
 * lie within the tolerance in either direction, as the reference library requires.
 */
export const standardWebhooks: Preset = {
  requiresJson: false,
  signatureHeaders: () => FAMILIES.map((family) => family.signature),
  keptHeaders: FAMILIES.flatMap((family) => [family.id, family.timestamp]),
  verify(request, source, nowSeconds) {
    const family = familyOf(request);
    if (!family) throw new AppError('MISSING_SIGNATURE', 'missing webhook-signature (or svix-signature) header');
    const id = header(request, family.id);
    const timestamp = header(request, family.timestamp);
    if (!id) throw new AppError('MISSING_SIGNATURE', `missing ${family.id} header`);
    if (timestamp === undefined) throw new AppError('MISSING_SIGNATURE', `missing ${family.timestamp} header`);
    const given = signatures(family, header(request, family.signature)!);
    checkTimestamp(family.timestamp, timestamp, nowSeconds, source.toleranceSeconds, 'both');
    const verified = source.secrets.some((secret) => {
      const key = whsecKey(secret);
      if (key.length === 0) return false; // the reference library refuses an empty key outright
      const expected = hmac('sha256', key, `${id}.${timestamp}.`, request.body);
      return given.some((signature) => safeEqual(expected, signature));
    });
    if (!verified) throw new AppError('INVALID_SIGNATURE', `no ${family.signature} v1 entry matches under any of the source secrets`);
  },
  // Not required: a non-JSON body or one without `type` falls back to `webhook`.
  eventType: { from: 'json', path: ['type'] },
  eventTypeRequired: false,
  idempotencyKey: { from: 'header', name: 'webhook-id' },
  readIdempotencyKey(request) {
    const family = familyOf(request);
    return (family && header(request, family.id)) || undefined;
  },
};

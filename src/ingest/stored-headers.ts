import type { FieldSpec } from './field-spec.js';
import type { IngestSource, Preset } from './presets/preset.js';
import type { IngestRequest } from './request.js';

/** Kept from every provider: what a receiver needs to read the body and tell senders apart. */
const COMMON = ['content-type', 'user-agent'];

/** Credentials: never stored, whatever a source or preset names. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/**
 * Every preset's signature headers (a unit test holds this list to the presets'
 * `signatureHeaders`); any other name holding `signature` or `hmac` (a generic HMAC source's
 * own header, Adyen's `HmacSignature`) is treated the same way.
 */
export const SIGNATURE_HEADERS: readonly string[] = [
  'x-hub-signature', 'x-hub-signature-256', 'stripe-signature', 'webhook-signature', 'svix-signature',
  'x-shopify-hmac-sha256', 'shopify-hmac-sha256', 'x-slack-signature', 'x-twilio-signature', 'hmacsignature',
];
const SIGNATURE_LIKE = /signature|hmac/i;

/** A header that carries a credential or a signature: never stored on an event, so never forwarded. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return CREDENTIALS.has(lower) || SIGNATURE_HEADERS.includes(lower) || SIGNATURE_LIKE.test(lower);
}

function headerOf(spec: FieldSpec | { fixed: string } | null | undefined): string[] {
  return spec && 'from' in spec && spec.from === 'header' ? [spec.name] : [];
}

/**
 * The headers an event keeps, by allow-list: the common ones, those the preset declares
 * worth keeping (event type, delivery id, topic, shop domain, ...), and those the source
 * itself names (its event-type, idempotency-key and timestamp headers, its `keepHeaders`). Credentials and
 * signatures are dropped even when named: a stored signature is a replayable one.
 */
export function storedHeaders(request: IngestRequest, preset: Preset, source: IngestSource): Record<string, string> {
  const names = new Set([
    ...COMMON,
    ...preset.keptHeaders,
    ...headerOf(preset.eventType),
    ...headerOf(preset.idempotencyKey),
    ...headerOf(source.eventTypeFrom),
    ...headerOf(source.idempotencyKeyFrom),
    ...(source.timestampHeader ? [source.timestampHeader.toLowerCase()] : []),
    ...source.keepHeaders,
  ]);
  const signatures = preset.signatureHeaders(source);
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined || isSecretHeader(name) || signatures.includes(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

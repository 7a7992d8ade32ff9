import { isSecretHeader } from '../crypto/redact.js';
import type { FieldSpec } from '../sources/field-spec.js';
import type { IngestSource, Preset } from '../sources/presets/preset.js';
import type { IngestRequest } from '../sources/request.js';

/** Kept from every provider: what a receiver needs to read the body and tell senders apart. */
const COMMON = ['content-type', 'user-agent'];

function headerOf(spec: FieldSpec | { fixed: string } | null | undefined): string[] {
  return spec && 'from' in spec && spec.from === 'header' ? [spec.name] : [];
}

/**
 * The headers an event keeps, by allow-list: the common ones, those the preset declares
 * worth keeping (event type, delivery id, topic, shop domain, ...), and those the source
 * itself names (its event-type, idempotency-key and timestamp headers, its `keepHeaders`).
 * Credentials and signatures are dropped even when named: a stored signature is a
 * replayable one.
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

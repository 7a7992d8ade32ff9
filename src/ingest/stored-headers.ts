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
 * The header names a source's events keep, worked out once per source object (the source
 * cache hands out the same object until it reloads it), not on every request.
 */
const keptNames = new WeakMap<IngestSource, string[]>();

function namesKept(preset: Preset, source: IngestSource): string[] {
  let names = keptNames.get(source);
  if (!names) {
    const signatures = preset.signatureHeaders(source);
    names = [...new Set([
      ...COMMON,
      ...preset.keptHeaders,
      ...headerOf(preset.eventType),
      ...headerOf(preset.idempotencyKey),
      ...headerOf(source.eventTypeFrom),
      ...headerOf(source.idempotencyKeyFrom),
      ...(source.timestampHeader ? [source.timestampHeader.toLowerCase()] : []),
      ...source.keepHeaders,
    ])].filter((name) => !isSecretHeader(name) && !signatures.includes(name));
    keptNames.set(source, names);
  }
  return names;
}

/**
 * The headers an event keeps, by allow-list: the common ones, those the preset declares
 * worth keeping (event type, delivery id, topic, shop domain, ...), and those the source
 * itself names (its event-type, idempotency-key and timestamp headers, its `keepHeaders`).
 * Credentials and signatures are dropped even when named: a stored signature is a
 * replayable one.
 */
export function storedHeaders(request: IngestRequest, preset: Preset, source: IngestSource): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of namesKept(preset, source)) {
    const value = request.headers[name];
    if (value === undefined) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

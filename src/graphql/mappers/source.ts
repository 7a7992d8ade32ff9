import type { Source } from '../../db/entities/source.js';
import { liveSecrets } from '../../sources/secrets.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../sources/source-lookup.js';
import type { SourceType } from '../types/source.js';

export function toSourceType(source: Source, publicUrl: string, now = new Date()): SourceType {
  const live = liveSecrets(source.secrets, now).length;
  return {
    id: source.id,
    name: source.name,
    slug: source.slug,
    preset: source.preset,
    enabled: source.enabled,
    builtIn: source.builtin,
    ingestUrl: `${publicUrl}/ingest/${source.slug}`,
    hasSecret: live > 0,
    liveSecretCount: live,
    basicAuthUsername: source.basicAuthUsername ?? null,
    toleranceSeconds: source.toleranceSeconds ?? null,
    maxBodyBytes: source.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    publicUrl: source.publicUrl ?? null,
    requireIdempotencyKey: source.requireIdempotencyKey,
    rateLimitPerSecond: source.rateLimitPerSecond ?? null,
    allowedCidrs: source.allowedCidrs ?? null,
    dedupeWindowSeconds: source.dedupeWindowSeconds ?? null,
    signatureHeader: source.signatureHeader ?? null,
    signatureAlgorithm: source.signatureAlgorithm ?? null,
    signatureEncoding: source.signatureEncoding ?? null,
    signaturePrefix: source.signaturePrefix ?? null,
    timestampHeader: source.timestampHeader ?? null,
    eventTypeFrom: source.eventTypeFrom ?? null,
    idempotencyKeyFrom: source.idempotencyKeyFrom ?? null,
    keepHeaders: source.keepHeaders ?? [],
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}

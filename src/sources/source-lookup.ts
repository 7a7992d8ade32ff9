import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { UnsealError, unseal, type SealContext } from '../crypto/seal.js';
import { sealedAt } from '../crypto/sealed-at.js';
import type { Keyring } from '../crypto/keyring.js';
import type { SourcePreset, SourceSecret } from '../db/entities/source.js';
import { allowedAddressMatcher } from './allowed-addresses.js';
import { parseFieldSpec, type FieldSpec } from './field-spec.js';
import type { IngestSource } from './presets/preset.js';
import { liveSecrets } from './secrets.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

interface SourceRow {
  id: string;
  slug: string;
  preset: SourcePreset;
  enabled: boolean;
  secrets: SourceSecret[];
  tolerance_seconds: number | null;
  max_body_bytes: number | null;
  require_idempotency_key: boolean;
  signature_header: string | null;
  signature_algorithm: string | null;
  signature_encoding: string | null;
  signature_prefix: string | null;
  timestamp_header: string | null;
  event_type_from: string | null;
  idempotency_key_from: string | null;
  keep_headers: string[] | null;
  public_url: string | null;
  basic_auth_username: string | null;
  basic_auth_password_sealed: string | null;
  rate_limit_per_second: number | null;
  allowed_cidrs: string[] | null;
  dedupe_window_seconds: number | null;
}

function spec(text: string | null): FieldSpec | null {
  if (!text) return null;
  const parsed = parseFieldSpec(text);
  return typeof parsed === 'string' ? null : parsed;
}

/** Loads a source by slug with its live secrets opened; `undefined` when the slug is unknown. */
export async function findIngestSource(pool: Pool, keyring: Keyring, slug: string, now: Date): Promise<IngestSource | undefined> {
  const { rows } = await pool.query<SourceRow>(
    `select id, slug, preset, enabled, secrets, tolerance_seconds, max_body_bytes, require_idempotency_key,
            signature_header, signature_algorithm, signature_encoding, signature_prefix, timestamp_header,
            event_type_from, idempotency_key_from, keep_headers, public_url, basic_auth_username, basic_auth_password_sealed,
            rate_limit_per_second, allowed_cidrs, dedupe_window_seconds
     from source where slug = $1 and not builtin`,
    [slug],
  );
  const row = rows[0];
  if (!row) return undefined;
  const secrets: string[] = [];
  let secretError: string | null = null;
  const open = (sealed: string, where: SealContext): string | undefined => {
    try {
      return unseal(keyring, sealed, where);
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      secretError = error.message;
      return undefined;
    }
  };
  for (const secret of liveSecrets(row.secrets, now)) {
    const opened = open(secret.sealed, sealedAt.sourceSecrets(row));
    if (opened !== undefined) secrets.push(opened);
  }
  const password = row.basic_auth_password_sealed ? open(row.basic_auth_password_sealed, sealedAt.sourcePassword(row)) : undefined;
  // Credentials that cannot be opened must refuse everything, never let everything through.
  const basicAuth = row.basic_auth_username ? { username: row.basic_auth_username, password: password ?? randomBytes(32).toString('hex') } : null;
  return {
    id: row.id,
    slug: row.slug,
    preset: row.preset,
    enabled: row.enabled,
    secrets,
    secretError,
    toleranceSeconds: row.tolerance_seconds,
    maxBodyBytes: row.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES,
    requireIdempotencyKey: row.require_idempotency_key,
    signatureHeader: row.signature_header,
    signatureAlgorithm: row.signature_algorithm,
    signatureEncoding: row.signature_encoding,
    signaturePrefix: row.signature_prefix,
    timestampHeader: row.timestamp_header,
    eventTypeFrom: spec(row.event_type_from),
    idempotencyKeyFrom: spec(row.idempotency_key_from),
    keepHeaders: row.keep_headers ?? [],
    publicUrl: row.public_url,
    basicAuth,
    rateLimitPerSecond: row.rate_limit_per_second,
    allowedAddress: allowedAddressMatcher(row.allowed_cidrs),
    dedupeWindowSeconds: row.dedupe_window_seconds,
  };
}

import { Field, InputType, Int } from 'type-graphql';
import type { SourcePreset } from '../../db/entities/source.js';
import { MAX_ALLOWED_CIDRS, parseAllowedCidr } from '../../sources/allowed-addresses.js';
import { parseFieldSpec } from '../../sources/field-spec.js';
import { HMAC_ALGORITHMS, HMAC_ENCODINGS } from '../../sources/presets/hmac.js';
import { isSecretHeader } from '../../crypto/redact.js';
import { parseWhsec } from '../../crypto/whsec.js';
import { isValidAdyenKey } from '../../sources/presets/adyen.js';
import { presets } from '../../sources/presets/index.js';
import { SourcePresetEnum } from '../types/enums.js';
import { headerName, httpUrl, intIn, invalid, optional, text } from './validate.js';

@InputType({ description: 'A new inbound endpoint' })
export class CreateSourceInput {
  @Field()
  name!: string;

  @Field({ description: 'URL segment: ^[a-z0-9][a-z0-9-]{0,62}$, unique' })
  slug!: string;

  @Field(() => SourcePresetEnum)
  preset!: SourcePreset;

  @Field(() => String, { nullable: true, description: 'The provider\'s signing secret, stored sealed and never shown again' })
  secret?: string | null;

  @Field(() => String, { nullable: true })
  basicAuthUsername?: string | null;

  @Field(() => String, { nullable: true })
  basicAuthPassword?: string | null;

  @Field(() => Int, { nullable: true, description: 'Accepted clock skew for timestamped schemes (default 300)' })
  toleranceSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Largest accepted body (default 1 MiB)' })
  maxBodyBytes?: number | null;

  @Field(() => String, { nullable: true, description: 'The URL the provider calls, without query (Twilio)' })
  publicUrl?: string | null;

  @Field(() => Boolean, { nullable: true })
  requireIdempotencyKey?: boolean | null;

  @Field(() => Int, { nullable: true, description: 'Verified requests per second before 429 (unset = unlimited); refused requests never count' })
  rateLimitPerSecond?: number | null;

  @Field(() => [String], { nullable: true, description: 'Addresses or CIDRs allowed to post (e.g. 198.51.100.0/24, 2001:db8::/32); others get 403. Unset = any address' })
  allowedCidrs?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Content dedupe: a body whose hash was accepted within this many seconds is answered as a duplicate of that event. Unset = off (two genuine events may share a body)' })
  dedupeWindowSeconds?: number | null;

  @Field(() => String, { nullable: true, description: 'HMAC preset: the signature header (default X-Signature)' })
  signatureHeader?: string | null;

  @Field(() => String, { nullable: true, description: 'HMAC preset: sha256 (default), sha1 or sha512' })
  signatureAlgorithm?: string | null;

  @Field(() => String, { nullable: true, description: 'HMAC preset: hex (default) or base64' })
  signatureEncoding?: string | null;

  @Field(() => String, { nullable: true, description: 'HMAC preset: text before the digest, e.g. sha256=' })
  signaturePrefix?: string | null;

  @Field(() => String, { nullable: true, description: 'HMAC preset: a timestamp header; then `<timestamp>.<body>` is signed' })
  timestampHeader?: string | null;

  @Field(() => String, { nullable: true, description: '"header:X-Name", "json:$.a.b" or "query:event_type"' })
  eventTypeFrom?: string | null;

  @Field(() => String, { nullable: true, description: '"header:X-Name", "json:$.a.b" or "query:name"' })
  idempotencyKeyFrom?: string | null;

  @Field(() => [String], { nullable: true, description: 'Further provider headers to store on events (for forwardHeaders and payload filters), besides the preset\'s own; never signatures or credentials' })
  keepHeaders?: string[] | null;
}

@InputType({ description: 'Changes to a source; omitted fields stay as they are, null clears' })
export class UpdateSourceInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  slug?: string | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Replaces every secret at once (use rotateSourceSecret for a gentle rotation)' })
  secret?: string | null;

  @Field(() => String, { nullable: true })
  basicAuthUsername?: string | null;

  @Field(() => String, { nullable: true })
  basicAuthPassword?: string | null;

  @Field(() => Int, { nullable: true })
  toleranceSeconds?: number | null;

  @Field(() => Int, { nullable: true })
  maxBodyBytes?: number | null;

  @Field(() => String, { nullable: true })
  publicUrl?: string | null;

  @Field(() => Boolean, { nullable: true })
  requireIdempotencyKey?: boolean | null;

  @Field(() => Int, { nullable: true })
  rateLimitPerSecond?: number | null;

  @Field(() => [String], { nullable: true })
  allowedCidrs?: string[] | null;

  @Field(() => Int, { nullable: true })
  dedupeWindowSeconds?: number | null;

  @Field(() => String, { nullable: true })
  signatureHeader?: string | null;

  @Field(() => String, { nullable: true })
  signatureAlgorithm?: string | null;

  @Field(() => String, { nullable: true })
  signatureEncoding?: string | null;

  @Field(() => String, { nullable: true })
  signaturePrefix?: string | null;

  @Field(() => String, { nullable: true })
  timestampHeader?: string | null;

  @Field(() => String, { nullable: true })
  eventTypeFrom?: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKeyFrom?: string | null;

  @Field(() => [String], { nullable: true })
  keepHeaders?: string[] | null;
}

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_BODY = 100 * 1024 * 1024;

/** Secrets are stored exactly as given; the only format checks are these two (DESIGN.md). */
export function checkSecret(preset: SourcePreset, secret: string, field = 'secret'): string {
  if (secret.length === 0) invalid(field, 'must not be empty');
  if (preset === 'ADYEN' && !isValidAdyenKey(secret)) invalid(field, 'an Adyen HMAC key is 64 hex characters');
  if (preset === 'STANDARD_WEBHOOKS' && parseWhsec(secret) === null) invalid(field, 'a Standard Webhooks secret is whsec_ followed by base64');
  return secret;
}

function fieldSpec(field: string, value: string): string {
  const parsed = parseFieldSpec(value);
  if (typeof parsed === 'string') invalid(field, parsed);
  return value;
}

/**
 * The checks both mutations share, on the merged result of stored values and the input, so
 * an update cannot reach a state a create would refuse.
 */
export function checkSourceSettings(s: {
  name: string; slug: string; preset: SourcePreset; basicAuthUsername?: string | null; hasBasicAuthPassword: boolean;
  toleranceSeconds?: number | null; maxBodyBytes?: number | null; publicUrl?: string | null; rateLimitPerSecond?: number | null;
  signatureHeader?: string | null; signatureAlgorithm?: string | null; signatureEncoding?: string | null; timestampHeader?: string | null;
  eventTypeFrom?: string | null; idempotencyKeyFrom?: string | null; keepHeaders?: string[] | null;
  allowedCidrs?: string[] | null; dedupeWindowSeconds?: number | null;
}): void {
  text('name', s.name);
  if (!SLUG.test(s.slug)) invalid('slug', 'must match ^[a-z0-9][a-z0-9-]{0,62}$');
  if (!presets[s.preset]) invalid('preset', `${s.preset} is not available in this build yet`);
  if (Boolean(s.basicAuthUsername) !== s.hasBasicAuthPassword) invalid(s.basicAuthUsername ? 'basicAuthPassword' : 'basicAuthUsername', 'Basic credentials need both a username and a password');
  optional(s.toleranceSeconds, (v) => intIn('toleranceSeconds', v, 1, 86_400));
  optional(s.maxBodyBytes, (v) => intIn('maxBodyBytes', v, 1, MAX_BODY));
  optional(s.publicUrl, (v) => httpUrl('publicUrl', v));
  if (s.preset === 'TWILIO' && !s.publicUrl) invalid('publicUrl', 'is required for TWILIO: the URL Twilio calls, without query');
  optional(s.rateLimitPerSecond, (v) => intIn('rateLimitPerSecond', v, 1, 100_000));
  optional(s.signatureHeader, (v) => headerName('signatureHeader', v));
  optional(s.timestampHeader, (v) => headerName('timestampHeader', v));
  optional(s.signatureAlgorithm, (v) => (HMAC_ALGORITHMS as readonly string[]).includes(v) || invalid('signatureAlgorithm', `must be one of ${HMAC_ALGORITHMS.join(', ')}`));
  optional(s.signatureEncoding, (v) => (HMAC_ENCODINGS as readonly string[]).includes(v) || invalid('signatureEncoding', `must be one of ${HMAC_ENCODINGS.join(', ')}`));
  optional(s.eventTypeFrom, (v) => fieldSpec('eventTypeFrom', v));
  optional(s.idempotencyKeyFrom, (v) => fieldSpec('idempotencyKeyFrom', v));
  optional(s.keepHeaders, (v) => keptHeaderNames(v, s.signatureHeader));
  optional(s.allowedCidrs, allowedCidrs);
  optional(s.dedupeWindowSeconds, (v) => intIn('dedupeWindowSeconds', v, 1, 7 * 86_400));
}

function allowedCidrs(entries: string[]): void {
  if (entries.length > MAX_ALLOWED_CIDRS) invalid('allowedCidrs', `at most ${MAX_ALLOWED_CIDRS} entries`);
  for (const entry of entries) {
    const parsed = parseAllowedCidr(entry);
    if (typeof parsed === 'string') invalid('allowedCidrs', parsed);
  }
}

/** Header names a source keeps: valid, at most 50, and never a signature (its own included) or credential. */
function keptHeaderNames(names: string[], signatureHeader: string | null | undefined): void {
  if (names.length > 50) invalid('keepHeaders', 'at most 50 headers');
  for (const name of names) {
    headerName('keepHeaders', name);
    if (isSecretHeader(name) || name.toLowerCase() === signatureHeader?.toLowerCase()) {
      invalid('keepHeaders', `${name} carries a signature or credentials, which are never stored`);
    }
  }
}

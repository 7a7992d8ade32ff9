import { Field, InputType, Int } from 'type-graphql';
import type { OrderingOnDead, RelayKind } from '../../db/entities/relay.js';
import { parseOrderingSpec } from '../../delivery/ordering/ordering-key.js';
import { OrderingOnDeadEnum, RelayKindEnum } from '../types/enums.js';
import { EmailSettingsInput } from './email-input.js';
import { BATCH_DEFAULTS, BATCH_LIMITS, type BatchSettings } from '../../delivery/batching/batch-settings.js';
import { parseWhsec } from '../../crypto/whsec.js';
import { headerName, httpUrl, intIn, invalid, optional, text } from './validate.js';

@InputType({ description: 'An extra header sent with every delivery (API keys: stored sealed, shown redacted)' })
export class HeaderInput {
  @Field()
  name!: string;

  @Field()
  value!: string;
}

@InputType({ description: 'Batched delivery: one signed request carries up to maxEvents events as a JSON array' })
export class BatchInput {
  @Field(() => Int, { nullable: true, description: `Events per request, ${BATCH_LIMITS.maxEvents.min}–${BATCH_LIMITS.maxEvents.max} (default ${BATCH_DEFAULTS.maxEvents})` })
  maxEvents?: number | null;

  @Field(() => Int, { nullable: true, description: `Body bytes per request, ${BATCH_LIMITS.maxBytes.min}–${BATCH_LIMITS.maxBytes.max} (default ${BATCH_DEFAULTS.maxBytes})` })
  maxBytes?: number | null;

  @Field(() => Int, { nullable: true, description: `How long a batch waits for more after its first event, ${BATCH_LIMITS.maxWaitMs.min}–${BATCH_LIMITS.maxWaitMs.max} ms (default ${BATCH_DEFAULTS.maxWaitMs})` })
  maxWaitMs?: number | null;
}

@InputType({ description: 'A new destination' })
export class CreateRelayInput {
  @Field()
  name!: string;

  @Field(() => RelayKindEnum, { nullable: true, description: 'HTTP (default) or EMAIL' })
  kind?: RelayKind | null;

  @Field(() => String, { nullable: true, description: 'The receiver (required for HTTP relays); an EMAIL relay has none: its url is smtp://host:port, derived from email' })
  url?: string | null;

  @Field(() => EmailSettingsInput, { nullable: true, description: 'The SMTP server, sender, recipients and subject (required for EMAIL relays)' })
  email?: EmailSettingsInput | null;

  @Field(() => String, { nullable: true, description: 'POST (default), PUT or PATCH' })
  method?: string | null;

  @Field(() => [HeaderInput], { nullable: true })
  headers?: HeaderInput[] | null;

  @Field(() => Int, { nullable: true, description: 'Per attempt, default 15000' })
  timeoutMs?: number | null;

  @Field(() => [Int], { nullable: true, description: 'Whole seconds ≥ 1 between tries, after the first; [] = no retries; default 5 s … 24 h' })
  retrySchedule?: number[] | null;

  @Field(() => Int, { nullable: true, description: 'Give up (DEAD) once a delivery is this old' })
  maxAgeSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Deliveries in flight at once (default 10)' })
  maxConcurrency?: number | null;

  @Field(() => Int, { nullable: true })
  rateLimitPerSecond?: number | null;

  @Field(() => String, { nullable: true })
  proxyUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'whsec_ + base64 of 24–64 bytes; generated when omitted' })
  signingSecret?: string | null;

  @Field(() => String, { nullable: true, description: 'Order deliveries per key: json:$.a.b, header:X-Name or idempotencyKey. Deliveries of one key go one at a time, in the order their events were accepted' })
  orderingKeyFrom?: string | null;

  @Field(() => OrderingOnDeadEnum, { nullable: true, description: 'With orderingKeyFrom: CONTINUE (default) or HOLD the key when its head ends DEAD' })
  orderingOnDead?: OrderingOnDead | null;

  @Field(() => BatchInput, { nullable: true, description: 'Send deliveries in batches (a JSON array per request); null: one request per delivery' })
  batch?: BatchInput | null;
}

@InputType({ description: 'Changes to a relay; omitted fields stay as they are, null clears' })
export class UpdateRelayInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => RelayKindEnum, { nullable: true, description: 'HTTP → EMAIL needs email; EMAIL → HTTP needs url (the email settings are dropped)' })
  kind?: RelayKind | null;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => EmailSettingsInput, { nullable: true, description: 'Replaces the email settings of an EMAIL relay (an omitted password keeps the stored one)' })
  email?: EmailSettingsInput | null;

  @Field(() => String, { nullable: true })
  method?: string | null;

  @Field(() => [HeaderInput], { nullable: true, description: 'Replaces every extra header' })
  headers?: HeaderInput[] | null;

  @Field(() => Int, { nullable: true })
  timeoutMs?: number | null;

  @Field(() => [Int], { nullable: true })
  retrySchedule?: number[] | null;

  @Field(() => Int, { nullable: true })
  maxAgeSeconds?: number | null;

  @Field(() => Int, { nullable: true })
  maxConcurrency?: number | null;

  @Field(() => Int, { nullable: true })
  rateLimitPerSecond?: number | null;

  @Field(() => String, { nullable: true })
  proxyUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'Order deliveries per key: json:$.a.b, header:X-Name or idempotencyKey. Deliveries of one key go one at a time, in the order their events were accepted' })
  orderingKeyFrom?: string | null;

  @Field(() => OrderingOnDeadEnum, { nullable: true, description: 'With orderingKeyFrom: CONTINUE or HOLD (null: CONTINUE) the key when its head ends DEAD' })
  orderingOnDead?: OrderingOnDead | null;

  @Field(() => BatchInput, { nullable: true, description: 'Send deliveries in batches (a JSON array per request); null: one request per delivery' })
  batch?: BatchInput | null;
}

const METHODS = ['POST', 'PUT', 'PATCH'];
/** Headers Hookyard sets itself; a relay may not override them (`traceparent` and `tracestate`: with tracing on). */
const RESERVED = /^(webhook-|hookyard-|content-length$|host$|transfer-encoding$|connection$|traceparent$|tracestate$)/i;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/**
 * Headers that change how the connection or a proxy behaves rather than what the receiver
 * reads: `Expect` and `Upgrade` hold or switch the connection, `Keep-Alive` and `TE` are
 * hop-by-hop, and `Proxy-Authorization` would hand a credential to whichever proxy is on the
 * way (undici also refuses it, failing every delivery).
 */
const HOP_BY_HOP = /^(expect|upgrade|keep-alive|te|proxy-authorization)$/i;

export function checkSigningSecret(secret: string): string {
  const parsed = parseWhsec(secret);
  // Re-encoding must give the same text: Node's decoder silently drops stray padding and bits.
  if (!parsed || parsed.key.length < 24 || parsed.key.length > 64 || parsed.key.toString('base64') !== parsed.base64) {
    invalid('signingSecret', 'must be whsec_ followed by padded standard base64 of 24 to 64 bytes');
  }
  return secret;
}

export function checkHeaders(headers: HeaderInput[]): HeaderInput[] {
  if (headers.length > 50) invalid('headers', 'at most 50 headers');
  for (const h of headers) {
    headerName('headers', h.name);
    if (RESERVED.test(h.name)) invalid('headers', `${h.name} is set by Hookyard and cannot be overridden`);
    if (HOP_BY_HOP.test(h.name)) invalid('headers', `${h.name} controls the connection or a proxy, not the request, and cannot be sent`);
    // Anything else fails every delivery on the header (or reaches receivers as Latin-1 bytes).
    if (!HEADER_VALUE.test(h.value)) invalid('headers', `the value of ${h.name} must be printable ASCII (tabs allowed): no line breaks, control characters or non-ASCII text; percent-encode those`);
  }
  return headers;
}

export function checkRelaySettings(r: {
  name: string; kind: RelayKind; url: string; method: string; timeoutMs: number; retrySchedule?: number[] | null; maxAgeSeconds?: number | null;
  maxConcurrency: number; rateLimitPerSecond?: number | null; proxyUrl?: string | null; orderingKeyFrom?: string | null;
}): void {
  text('name', r.name);
  // An EMAIL relay's url is derived from its settings (checked by checkEmailSettings).
  if (r.kind === 'HTTP') httpUrl('url', r.url, { allowQuery: true });
  if (!METHODS.includes(r.method)) invalid('method', `must be one of ${METHODS.join(', ')}`);
  intIn('timeoutMs', r.timeoutMs, 100, 120_000);
  optional(r.retrySchedule, (steps) => {
    if (steps.length > 50) invalid('retrySchedule', 'at most 50 steps');
    for (const step of steps) intIn('retrySchedule', step, 1, 7 * 86_400);
  });
  optional(r.maxAgeSeconds, (v) => intIn('maxAgeSeconds', v, 1, 30 * 86_400));
  intIn('maxConcurrency', r.maxConcurrency, 1, 1000);
  optional(r.rateLimitPerSecond, (v) => intIn('rateLimitPerSecond', v, 1, 100_000));
  optional(r.proxyUrl, (v) => httpUrl('proxyUrl', v));
  optional(r.orderingKeyFrom, (v) => {
    if (v.length > 200) invalid('orderingKeyFrom', 'at most 200 characters');
    const spec = parseOrderingSpec(v);
    if (typeof spec === 'string') invalid('orderingKeyFrom', spec);
  });
}

/** A relay's batch settings from the input, defaults filled in and each checked. */
export function checkBatch(input: BatchInput): BatchSettings {
  const batch = { maxEvents: input.maxEvents ?? BATCH_DEFAULTS.maxEvents, maxBytes: input.maxBytes ?? BATCH_DEFAULTS.maxBytes, maxWaitMs: input.maxWaitMs ?? BATCH_DEFAULTS.maxWaitMs };
  for (const key of ['maxEvents', 'maxBytes', 'maxWaitMs'] as const) intIn(`batch.${key}`, batch[key], BATCH_LIMITS[key].min, BATCH_LIMITS[key].max);
  return batch;
}

/**
 * What an EMAIL relay cannot have: an HTTP url, extra HTTP headers, a proxy (it connects to its
 * SMTP server directly), batches (one email per delivery). The relay as it will be saved.
 */
export function checkEmailRelay(r: { headersSealed?: string | null; proxyUrl?: string | null; batchMaxEvents?: number | null }, input: { url?: string | null }): void {
  if (input.url) invalid('url', 'an EMAIL relay has no url of its own: it is smtp://host:port, derived from email');
  if (r.headersSealed) invalid('headers', 'EMAIL relays send no HTTP headers');
  if (r.proxyUrl) invalid('proxyUrl', 'EMAIL relays connect to their SMTP server directly');
  if (r.batchMaxEvents) invalid('batch', 'EMAIL relays send one email per delivery and do not batch');
}

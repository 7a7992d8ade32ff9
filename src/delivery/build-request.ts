import { truncateSignatures } from '../crypto/redact.js';
import { sealedAt } from '../crypto/sealed-at.js';
import { eventTypeHeader } from './event-type-header.js';
import type { OpenedSecrets } from './opened-secrets.js';
import { signStandardWebhook } from './sign.js';
import { parseJsonOrUndefined } from '../lenient-json.js';
import type { RelayKind, SmtpTls } from '../db/entities/relay.js';

/** The columns the claim loads for one delivery (see dispatch.ts). */
export interface ClaimedRow {
  id: string;
  /** MikroORM's pool parses timestamptz to strings. */
  created_at: string | Date;
  relay_id: string;
  event_id: string;
  type: string;
  body: Buffer;
  content_type: string | null;
  event_headers: Record<string, string>;
  source_slug: string | null;
  url: string;
  method: string;
  headers_sealed: string | null;
  signing_secret_sealed: string;
  previous_signing_secret_sealed: string | null;
  previous_signing_secret_expires_at: string | Date | null;
  timeout_ms: number;
  retry_schedule: number[] | null;
  max_age_seconds: number | null;
  max_concurrency: number;
  rate_limit_per_second: number | null;
  proxy_url: string | null;
  proxy_url_sealed: string | null;
  forward_headers: string[] | null;
  /** The ingest request's correlation id, for the attempt's log lines. */
  correlation_id: string | null;
  /** The ingest span's context, parent of the attempt's span (tracing/attempt-span.ts). */
  traceparent: string | null;
  /** Its key when its relay orders deliveries by key (delivery/ordering/). */
  ordering_key?: string | null;
  /** When the event was accepted: a batch item's `timestamp`. */
  received_at?: string | Date;
  /** The batch it was last sent in, and whether it goes alone (delivery/batching/). */
  batch_id?: string | null;
  alone?: boolean;
  /** The relay's batch settings; `batch_max_events` null: it does not batch. */
  batch_max_events?: number | null;
  batch_max_bytes?: number | null;
  batch_max_wait_ms?: number | null;
  /** Where the delivery goes (destinations/); absent in rows built by hand: HTTP. */
  kind?: RelayKind;
  /** EMAIL relays' settings (destinations/email.ts); null for HTTP relays. */
  smtp_host?: string | null;
  smtp_port?: number | null;
  smtp_tls?: SmtpTls | null;
  smtp_user?: string | null;
  smtp_password_sealed?: string | null;
  email_from?: string | null;
  email_to?: string[] | null;
  email_subject?: string | null;
}

const REDACTED = '[redacted]';

/**
 * The outbound headers: forwarded provider headers, the relay's extra headers (redacted in
 * the attempt log), then Hookyard's own, which nothing can override. During a signing-secret
 * rotation's grace period both secrets sign (`v1,<new> v1,<old>`). The attempt log keeps each
 * signature cut to its last characters (`v1,…a1b2`): readable enough to match a receiver's
 * log, never a value that could be replayed. The event type is percent-encoded when a header
 * could not carry it unchanged (event-type-header.ts).
 *
 * With tracing on, `traceparent` names the attempt's span and is Hookyard's own header like
 * the others: a forwarded provider header or a relay's extra header of that name is replaced,
 * and a `tracestate` beside it dropped (it would describe another trace). Header names are
 * lowercased into one map, so no name is ever sent twice. Signatures cover id, timestamp and
 * body only, so no header can break them.
 */
export function buildRequest(row: ClaimedRow, opened: OpenedSecrets, userAgent: string, deliveryId: string, now: Date, traceparent?: string): { headers: Record<string, string>; logged: Record<string, string> } {
  const headers: Record<string, string> = {};
  const logged: Record<string, string> = {};
  for (const name of row.forward_headers ?? []) {
    const value = row.event_headers[name.toLowerCase()];
    if (value !== undefined) headers[name.toLowerCase()] = logged[name.toLowerCase()] = value;
  }
  for (const { name, value } of extraHeaders(row, opened)) {
    headers[name.toLowerCase()] = value;
    logged[name.toLowerCase()] = REDACTED;
  }
  const secrets = signingKeys(row, opened, now);
  const timestamp = Math.floor(now.getTime() / 1000);
  const fixed: Record<string, string> = {
    'content-type': row.content_type ?? 'application/json',
    'user-agent': userAgent,
    'webhook-id': row.event_id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(secrets, row.event_id, timestamp, row.body),
    'hookyard-event-type': eventTypeHeader(row.type),
    'hookyard-delivery-id': deliveryId,
  };
  if (row.source_slug) fixed['hookyard-source'] = row.source_slug;
  if (traceparent) {
    fixed.traceparent = traceparent;
    delete headers.tracestate;
    delete logged.tracestate;
  }
  Object.assign(headers, fixed);
  Object.assign(logged, fixed, { 'webhook-signature': truncateSignatures(fixed['webhook-signature']!) });
  return { headers, logged };
}

/** The relay's extra headers, opened. */
function extraHeaders(row: ClaimedRow, opened: OpenedSecrets): { name: string; value: string }[] {
  return row.headers_sealed ? (JSON.parse(opened.text(row.headers_sealed, sealedAt.relayHeaders(row.relay_id))) as { name: string; value: string }[]) : [];
}

/** The HMAC keys that sign now: the relay's secret, and the previous one during a rotation's grace period. */
function signingKeys(row: ClaimedRow, opened: OpenedSecrets, now: Date): ReturnType<OpenedSecrets['hmacKey']>[] {
  const secrets = [opened.hmacKey(row.signing_secret_sealed, sealedAt.relaySigningSecret(row.relay_id))];
  if (row.previous_signing_secret_sealed && row.previous_signing_secret_expires_at && new Date(row.previous_signing_secret_expires_at) > now) {
    secrets.push(opened.hmacKey(row.previous_signing_secret_sealed, sealedAt.relayPreviousSigningSecret(row.relay_id)));
  }
  return secrets;
}

/**
 * One event as a batch item: `{ id, type, timestamp, source, data }`, `data` the original body
 * as JSON where it parses, else the body as text. Serialised once, when it joins its batch,
 * so the batch's size is known before it is sent.
 */
export function batchItem(row: ClaimedRow): string {
  const parsed = row.content_type === null || /json/i.test(row.content_type) ? parseJsonOrUndefined(row.body) : undefined;
  const receivedAt = row.received_at === undefined ? null : new Date(row.received_at).toISOString();
  return JSON.stringify({ id: row.event_id, type: row.type, timestamp: receivedAt, source: row.source_slug, data: parsed === undefined ? row.body.toString('utf8') : parsed });
}

/** A batch's body: its items as one JSON array. */
export function batchBody(items: readonly string[]): Buffer {
  return Buffer.from(`[${items.join(',')}]`);
}

/**
 * The headers of a batch request: the relay's extra headers (redacted in the attempt log),
 * then Hookyard's own, `webhook-id` the batch's id (or, for a delivery sent alone, its event's
 * id) and the Standard Webhooks signature over the whole array. No event-type, delivery or
 * forwarded provider headers: a batch carries several events; each item names its own.
 */
export function buildBatchRequest(relay: ClaimedRow, body: Buffer, count: number, webhookId: string, opened: OpenedSecrets, userAgent: string, now: Date): { headers: Record<string, string>; logged: Record<string, string> } {
  const headers: Record<string, string> = {};
  const logged: Record<string, string> = {};
  for (const { name, value } of extraHeaders(relay, opened)) {
    headers[name.toLowerCase()] = value;
    logged[name.toLowerCase()] = REDACTED;
  }
  const timestamp = Math.floor(now.getTime() / 1000);
  const fixed: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(signingKeys(relay, opened, now), webhookId, timestamp, body),
    'hookyard-batch-size': String(count),
  };
  Object.assign(headers, fixed);
  Object.assign(logged, fixed, { 'webhook-signature': truncateSignatures(fixed['webhook-signature']!) });
  return { headers, logged };
}

import { AppError } from '../../errors.js';
import { parseJsonOrUndefined } from '../../lenient-json.js';
import { readField } from '../field-spec.js';
import { header, type IngestRequest } from '../request.js';
import { checkTimestamp, hmac, safeEqual } from '../verify.js';
import type { Preset } from './preset.js';

const SIGNATURE_HEADER = 'x-slack-signature';
const TIMESTAMP_HEADER = 'x-slack-request-timestamp';
const FORMAT = /^v0=[0-9a-f]{64}$/;

/** Slash commands and interactivity posts are form-encoded; Events API posts are JSON. */
function formField(request: IngestRequest, name: string): string | undefined {
  return new URLSearchParams(request.body.toString('utf8')).get(name) || undefined;
}

/** An interactivity post carries its JSON in the `payload` form field; its `type` is e.g. `block_actions`. */
function interactionType(request: IngestRequest): string | undefined {
  const payload = formField(request, 'payload');
  if (payload === undefined) return undefined;
  const parsed = parseJsonOrUndefined(payload);
  const type = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).type : undefined;
  return typeof type === 'string' && type ? type : undefined;
}

/**
 * `X-Slack-Signature: v0=<hex HMAC-SHA256("v0:<timestamp>:<body>")>` with the signing
 * secret's UTF-8. The timestamp may be at most the tolerance old; a future one passes, as in
 * Slack's own SDK.
 */
export const slack: Preset = {
  requiresJson: false,
  signatureHeaders: () => [SIGNATURE_HEADER],
  keptHeaders: [TIMESTAMP_HEADER, 'x-slack-retry-num', 'x-slack-retry-reason'],
  verify(request, source, nowSeconds) {
    const signature = header(request, SIGNATURE_HEADER);
    const timestamp = header(request, TIMESTAMP_HEADER);
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', 'missing X-Slack-Signature header');
    if (timestamp === undefined) throw new AppError('MISSING_SIGNATURE', 'missing X-Slack-Request-Timestamp header');
    if (!FORMAT.test(signature)) throw new AppError('MALFORMED_SIGNATURE', 'X-Slack-Signature must be v0= followed by 64 lowercase hex characters');
    checkTimestamp('X-Slack-Request-Timestamp', timestamp, nowSeconds, source.toleranceSeconds, 'past');
    const given = Buffer.from(signature.slice('v0='.length), 'hex');
    if (!source.secrets.some((secret) => safeEqual(hmac('sha256', secret, `v0:${timestamp}:`, request.body), given))) {
      throw new AppError('INVALID_SIGNATURE', 'X-Slack-Signature does not match the body under any of the source secrets');
    }
  },
  eventType: { from: 'json', path: ['event', 'type'] },
  eventTypeRequired: false,
  /** Events API: `event.type`, else the envelope's `type`; forms: the slash `command`, else an interaction's `type`. */
  readEventType(request) {
    if (request.json() !== undefined) {
      return readField({ from: 'json', path: ['event', 'type'] }, request) || readField({ from: 'json', path: ['type'] }, request) || undefined;
    }
    return formField(request, 'command') ?? interactionType(request);
  },
  idempotencyKey: { from: 'json', path: ['event_id'] },
};

/**
 * The `challenge` of a verified `url_verification` request, which the route answers as is
 * and does not store; `undefined` for any other request. Call it only after `verify`:
 * Slack signs these requests too, and answering only verified ones keeps every 2xx of the
 * ingest route behind a signature check.
 */
export function slackChallenge(request: IngestRequest): string | undefined {
  if (readField({ from: 'json', path: ['type'] }, request) !== 'url_verification') return undefined;
  return readField({ from: 'json', path: ['challenge'] }, request);
}

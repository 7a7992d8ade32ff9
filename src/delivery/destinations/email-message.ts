import type { SendMailOptions } from 'nodemailer';
import { parseJsonOrUndefined } from '../../lenient-json.js';
import type { ClaimedRow } from '../build-request.js';
import { eventTypeHeader } from '../event-type-header.js';
import { DEFAULT_SUBJECT, renderSubject } from './subject-template.js';

/**
 * The email an EMAIL relay sends for one delivery: the rendered subject, and as its text the
 * event body, pretty-printed when it is JSON (as sent otherwise). The Message-ID is the same
 * on every retry of the event to this relay (`<event id>.<relay id>@hookyard`), as
 * `webhook-id` is for HTTP: a mail system that de-duplicates keeps one copy. Hookyard's own
 * headers name the event, its type (percent-encoded like `hookyard-event-type`) and the delivery.
 */
export function composeEmail(row: ClaimedRow, deliveryId: string): { mail: SendMailOptions; logged: Record<string, string> } {
  const parsed = row.content_type === null || /json/i.test(row.content_type) ? parseJsonOrUndefined(row.body) : undefined;
  const subject = renderSubject(row.email_subject ?? DEFAULT_SUBJECT, { id: row.event_id, type: row.type, source: row.source_slug, body: parsed });
  const to = row.email_to ?? [];
  const messageId = `<${row.event_id}.${row.relay_id}@hookyard>`;
  const headers: Record<string, string> = {
    'hookyard-event-id': row.event_id,
    'hookyard-event-type': eventTypeHeader(row.type),
    'hookyard-delivery-id': deliveryId,
  };
  if (row.source_slug) headers['hookyard-source'] = row.source_slug;
  const mail: SendMailOptions = {
    from: row.email_from!,
    to,
    subject,
    text: parsed === undefined ? row.body.toString('utf8') : `${JSON.stringify(parsed, null, 2)}\n`,
    messageId,
    headers,
    // Nothing in a message may make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  return { mail, logged: { from: row.email_from!, to: to.join(', '), subject, 'message-id': messageId, ...headers } };
}

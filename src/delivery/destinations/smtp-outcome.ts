import type { NodemailerError } from 'nodemailer';
import { classifyError, RESPONSE_EXCERPT_BYTES, type SendOutcome } from '../http-sender.js';
import { SsrfBlockedError } from '../ssrf-guard.js';

/** Codes of nodemailer's own, before any SMTP reply: the message or settings, not the server. */
const LOCAL_CODES = new Set(['ECONFIG', 'ENOAUTH', 'EAUTH', 'EENVELOPE', 'EMAXRECIPIENTS', 'ESTREAM', 'EFILEACCESS', 'EURLACCESS']);

/** The reply code at the start of an SMTP answer (`250 2.0.0 Ok: queued`). */
export function replyCode(response: string | undefined): number | null {
  const match = /^([2-5]\d\d)[ -]/.exec(response ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * A failed send as an attempt's outcome. An SMTP error reply is class `SMTP`, its code the
 * attempt's `responseStatus` and its text the body excerpt; it is permanent (DEAD at once)
 * for a 5xx other than 503, as RFC 5321 and nodemailer have it (503 is a bad command sequence:
 * the session, not the message), and retried for a 4xx. Without a reply the failure takes the
 * classes HTTP relays use: TIMEOUT, CONNECTION_REFUSED, CONNECTION_RESET, DNS, TLS, SSRF_BLOCKED.
 */
export function smtpFailure(error: unknown, timeoutMs: number, durationMs: number, sending: boolean): SendOutcome {
  const failure = { status: null, bodyExcerpt: null, retryAfter: undefined, durationMs };
  if (error instanceof SsrfBlockedError) return { ok: false, errorClass: 'SSRF_BLOCKED', message: error.message, detail: error.detail, ...failure };
  const err = error as NodemailerError;
  const code = err.code ?? '';
  if (typeof err.responseCode === 'number' && err.responseCode >= 400 && err.responseCode < 600) {
    const reply = (err.response ?? '').slice(0, RESPONSE_EXCERPT_BYTES);
    return {
      ok: false,
      errorClass: 'SMTP',
      message: `SMTP server answered ${err.responseCode}${err.command ? ` to ${err.command.split(' ')[0]}` : ''}: ${reply}`,
      ...failure,
      status: err.responseCode,
      bodyExcerpt: reply,
      permanent: err.permanent ?? (err.responseCode >= 500 && err.responseCode !== 503),
    };
  }
  if (code === 'EABORT' || code === 'ETIMEDOUT' || err.name === 'TimeoutError' || err.name === 'AbortError') {
    return { ok: false, errorClass: 'TIMEOUT', message: `no answer within ${timeoutMs} ms`, ...failure };
  }
  const message = (err.message || String(error)).slice(0, 1000);
  if (code === 'EDNS') return { ok: false, errorClass: 'DNS', message, ...failure };
  if (code === 'ETLS' || code === 'EREQUIRETLS') return { ok: false, errorClass: 'TLS', message, ...failure };
  if (LOCAL_CODES.has(code)) return { ok: false, errorClass: 'LOCAL', message, ...failure };
  const errorClass = classifyError({ code: err.originalCode ?? code });
  // Before a connection was tried, only a name that did not resolve is the server's doing.
  return { ok: false, errorClass: sending || errorClass === 'DNS' ? errorClass : 'LOCAL', message, ...failure };
}

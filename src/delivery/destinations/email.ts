import { isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SMTPTransportOptions } from 'nodemailer';
import { sealedAt } from '../../crypto/sealed-at.js';
import type { ClaimedRow } from '../build-request.js';
import { abortable, attemptDeadline, RESPONSE_EXCERPT_BYTES, type SendOutcome } from '../http-sender.js';
import { KeyedLimit } from '../keyed-limit.js';
import type { OpenedSecrets } from '../opened-secrets.js';
import { checkedAddress, DEFAULT_RESOLVE_TIMEOUT_MS, type Resolver } from '../ssrf-guard.js';
import type { AttemptContext, Destination } from './destination.js';
import { composeEmail } from './email-message.js';
import { replyCode, smtpFailure } from './smtp-outcome.js';

export interface EmailDestinationOptions {
  secrets: OpenedSecrets;
  /** The HTTP sender's resolver (hosts file, then c-ares with a timeout): one DNS path for every destination. */
  resolve: Resolver;
  /** HOOKYARD_ALLOW_PRIVATE_TARGETS. */
  allowPrivate: boolean;
  dnsTimeoutMs?: number;
  /** Transporters kept, one per relay and settings (default 200). */
  maxTransporters?: number;
  /** The name this client gives in EHLO (nodemailer would send the machine's host name). */
  clientName?: string;
}

/** One relay's DNS queries in flight at once, as for HTTP relays. */
const LOOKUPS_PER_RELAY = 4;

/**
 * An EMAIL relay: the event as an email (email-message.ts) through the relay's SMTP server,
 * with nodemailer.
 *
 * The server's name is resolved and checked by the SSRF guard here, and nodemailer is given
 * the checked address with the name as TLS `servername` (SNI and certificate check), so no
 * second resolution can lead elsewhere. One transporter per relay and settings (address,
 * credentials, timeout) is kept, at most `maxTransporters`; transporters do not pool: each
 * message opens its own connection, so the relay's `maxConcurrency` bounds its connections
 * and no idle SMTP session outlives its attempt. The relay's `timeoutMs` bounds each step
 * (connect, greeting, every reply) and the whole attempt, DNS included.
 */
export class EmailDestination implements Destination {
  private readonly transporters: LRUCache<string, Transporter>;
  private readonly lookups = new KeyedLimit(LOOKUPS_PER_RELAY);
  private readonly dnsTimeoutMs: number;

  constructor(private readonly options: EmailDestinationOptions) {
    this.dnsTimeoutMs = options.dnsTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
    this.transporters = new LRUCache<string, Transporter>({ max: options.maxTransporters ?? 200, dispose: (transporter) => transporter.close() });
  }

  async send(row: ClaimedRow, attempt: AttemptContext): Promise<SendOutcome> {
    const { mail, logged } = composeEmail(row, attempt.deliveryId);
    attempt.logged = logged;
    // Opened before anything leaves: a password this process cannot open fails the attempt as LOCAL.
    const password = row.smtp_password_sealed ? this.options.secrets.text(row.smtp_password_sealed, sealedAt.relaySmtpPassword(row.relay_id)) : undefined;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const deadline = attemptDeadline(row.timeout_ms, attempt.signal);
    let sending = false;
    try {
      const host = row.smtp_host!;
      const address = await abortable(
        this.lookups.run(row.relay_id, deadline.signal, () => checkedAddress(host, { allowPrivate: this.options.allowPrivate, resolve: this.options.resolve, timeoutMs: this.dnsTimeoutMs })),
        deadline.signal,
      );
      const transporter = this.transporter(row, host, address.address, password);
      sending = true;
      attempt.onSending();
      const info = (await transporter.sendMail({ ...mail, signal: deadline.signal })) as { response?: string; rejected?: string[] };
      const response = info.response ?? '';
      const rejected = info.rejected?.length ? ` (refused: ${info.rejected.join(', ')})` : '';
      return { ok: true, status: replyCode(response) ?? 250, bodyExcerpt: `${response}${rejected}`.slice(0, RESPONSE_EXCERPT_BYTES), durationMs: elapsed() };
    } catch (error) {
      return smtpFailure(error, row.timeout_ms, elapsed(), sending);
    } finally {
      deadline.clear();
    }
  }

  private transporter(row: ClaimedRow, host: string, address: string, password: string | undefined): Transporter {
    const tls = row.smtp_tls ?? 'STARTTLS';
    const key = [row.relay_id, address, row.smtp_port, tls, row.smtp_user ?? '', row.smtp_password_sealed ?? '', row.timeout_ms, host].join('\n');
    let transporter = this.transporters.get(key);
    if (!transporter) {
      const settings: SMTPTransportOptions = {
        host: address,
        port: row.smtp_port!,
        secure: tls === 'TLS',
        requireTLS: tls === 'STARTTLS',
        ignoreTLS: tls === 'NONE',
        // The certificate is checked against the name the relay was given, not the address connected to.
        ...(isIP(host) === 0 ? { servername: host } : {}),
        tls: { minVersion: 'TLSv1.2' },
        ...(row.smtp_user ? { auth: { user: row.smtp_user, pass: password ?? '' } } : {}),
        name: this.options.clientName ?? 'hookyard',
        connectionTimeout: row.timeout_ms,
        greetingTimeout: row.timeout_ms,
        socketTimeout: row.timeout_ms,
        logger: false,
      };
      transporter = nodemailer.createTransport(settings);
      this.transporters.set(key, transporter);
    }
    return transporter;
  }

  async close(): Promise<void> {
    this.transporters.clear();
  }
}

import { isIP } from 'node:net';
import { Field, InputType, Int } from 'type-graphql';
import type { SmtpTls } from '../../db/entities/relay.js';
import { DEFAULT_SUBJECT, subjectTemplateProblem } from '../../delivery/destinations/subject-template.js';
import { SmtpTlsEnum } from '../types/enums.js';
import { intIn, invalid } from './validate.js';

export const MAX_RECIPIENTS = 20;
const DEFAULT_PORTS: Record<SmtpTls, number> = { STARTTLS: 587, TLS: 465, NONE: 25 };

@InputType({ description: 'Where an EMAIL relay sends its mail; replaces the relay\'s email settings as a whole (an omitted password keeps the stored one)' })
export class EmailSettingsInput {
  @Field({ description: 'The SMTP server: a host name or an IP address' })
  host!: string;

  @Field(() => Int, { nullable: true, description: 'Default 587 (STARTTLS), 465 (TLS) or 25 (NONE)' })
  port?: number | null;

  @Field(() => SmtpTlsEnum, { nullable: true, description: 'Default STARTTLS' })
  tls?: SmtpTls | null;

  @Field(() => String, { nullable: true })
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'Stored sealed, never returned. On update: omitted keeps the stored password, null removes it' })
  password?: string | null;

  @Field({ description: 'The sender address (plain address, e.g. alerts@example.com)' })
  from!: string;

  @Field(() => [String], { description: `Recipient addresses, 1 to ${MAX_RECIPIENTS}` })
  to!: string[];

  @Field(() => String, { nullable: true, description: `Subject template, one line: {{type}}, {{id}}, {{source}} or a dotted path into the JSON body such as {{data.customer.email}} (default "${DEFAULT_SUBJECT}")` })
  subject?: string | null;
}

/** What an EMAIL relay stores, checked; `password` undefined: keep the stored one. */
export interface EmailSettings {
  host: string;
  port: number;
  tls: SmtpTls;
  username: string | null;
  password: string | null | undefined;
  from: string;
  to: string[];
  subject: string;
}

/** A host name (LDH labels) or an IP literal; nothing that could carry a port, a path or a line break. */
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;
/**
 * A plain address `local@domain`: no display name, comments, quotes, angle brackets, commas or
 * whitespace, so an address can neither add a recipient nor break out of its header.
 */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** User names go into SMTP AUTH as they are: printable ASCII and non-ASCII letters, no control characters. */
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

function address(field: string, value: string): string {
  if (value.length > 254 || !ADDRESS.test(value)) invalid(field, `"${value.slice(0, 100)}" is not a plain email address (local@domain)`);
  return value;
}

export function checkEmailSettings(input: EmailSettingsInput): EmailSettings {
  const host = input.host.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0 && !HOST_NAME.test(host)) invalid('email.host', 'must be a host name or an IP address, without scheme or port');
  const tls = input.tls ?? 'STARTTLS';
  const port = input.port ?? DEFAULT_PORTS[tls];
  intIn('email.port', port, 1, 65_535);
  const username = input.username === undefined || input.username === null || input.username === '' ? null : input.username;
  if (username !== null && (username.length > 200 || !PRINTABLE.test(username))) invalid('email.username', 'must be at most 200 characters without control characters');
  if (input.password !== undefined && input.password !== null) {
    if (input.password.length === 0 || input.password.length > 500 || !PRINTABLE.test(input.password)) invalid('email.password', 'must be 1 to 500 characters without control characters');
    if (username === null) invalid('email.password', 'needs email.username');
  }
  if (tls === 'NONE' && username !== null) invalid('email.tls', 'credentials are never sent without TLS: use STARTTLS or TLS');
  const from = address('email.from', input.from.trim());
  if (input.to.length === 0 || input.to.length > MAX_RECIPIENTS) invalid('email.to', `must name 1 to ${MAX_RECIPIENTS} recipients`);
  const to = input.to.map((recipient) => address('email.to', recipient.trim()));
  const subject = input.subject ?? DEFAULT_SUBJECT;
  const problem = subjectTemplateProblem(subject);
  if (problem) invalid('email.subject', problem);
  if (subject.trim().length === 0) invalid('email.subject', 'must not be empty');
  return { host, port, tls, username, password: username === null ? null : input.password, from, to, subject };
}

/** What an EMAIL relay's `url` holds: where its mail goes, shown like a URL. */
export function emailRelayUrl(settings: Pick<EmailSettings, 'host' | 'port' | 'tls'>): string {
  const host = isIP(settings.host) === 6 ? `[${settings.host}]` : settings.host;
  return `${settings.tls === 'TLS' ? 'smtps' : 'smtp'}://${host}:${settings.port}`;
}

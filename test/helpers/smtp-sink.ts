import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  /** The envelope's recipients (RCPT TO), whatever the headers say. */
  to: string[];
  /** The message as received, headers and body. */
  raw: string;
  /** Header lines, unfolded, lowercased names. */
  headers: Map<string, string>;
  body: string;
}

/** What the server answers for one stage: nothing (accept), or an SMTP error reply. */
export type Refusal = { code: number; message: string } | undefined;

export interface SmtpSink {
  host: string;
  port: number;
  received: ReceivedMail[];
  /** Asked at RCPT TO for each recipient, and after DATA for each message (its recipients). */
  refuseRecipient: (address: string) => Refusal;
  refuseMessage: (to: string[]) => Refusal;
  close(): Promise<void>;
}

function parse(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(split + 4) };
}

const refused = (refusal: { code: number; message: string }) => Object.assign(new Error(refusal.message), { responseCode: refusal.code });

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1, plain text, no authentication; refusals per test. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink: SmtpSink = {
    host: '127.0.0.1', port: 0, received: [],
    refuseRecipient: () => undefined,
    refuseMessage: () => undefined,
    close: async () => {},
  };
  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS: true,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const refusal = sink.refuseRecipient(address.address);
      callback(refusal ? refused(refusal) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const refusal = sink.refuseMessage(to);
        if (refusal) return callback(refused(refusal));
        const raw = Buffer.concat(chunks).toString('utf8');
        sink.received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, raw, ...parse(raw) });
        callback(null, `Ok: queued as ${sink.received.length}`);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

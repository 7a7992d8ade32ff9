import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };
export type LogDestination = DestinationStream;

/** Credentials: never stored or logged, whatever a source or preset names. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/**
 * Every preset's signature headers (a unit test holds this list to the presets'
 * `signatureHeaders`); crypto/redact.ts's isSecretHeader also treats any other name holding
 * `signature` or `hmac` (a generic HMAC source's own header, Adyen's `HmacSignature`) this way.
 */
export const SIGNATURE_HEADERS: readonly string[] = [
  'x-hub-signature', 'x-hub-signature-256', 'stripe-signature', 'webhook-signature', 'svix-signature',
  'x-shopify-hmac-sha256', 'shopify-hmac-sha256', 'x-slack-signature', 'x-twilio-signature', 'hmacsignature',
];

/**
 * Fields that hold secrets wherever they appear (top level, or one or two objects down):
 * SQL parameters (`params`, `parameters`, `values`: a failed statement's error may carry
 * them), GraphQL variables, secrets, tokens, passwords.
 */
const SECRET_FIELDS = [
  'params', 'parameters', 'values', 'variables', 'secret', 'secrets', 'signingSecret', 'password', 'basicAuthPassword',
  'token', 'adminToken', 'encryptionKey', 'signature',
];

/** Header maps (`headers`, `req.headers`, ...) lose their credential and signature values. */
const SECRET_HEADERS = [...CREDENTIAL_HEADERS, ...SIGNATURE_HEADERS];

export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
  ...SECRET_HEADERS.flatMap((name) => [`headers["${name}"]`, `*.headers["${name}"]`, `*.*.headers["${name}"]`]),
  // A relay's extra headers, `[{ name, value }]`: the values are API keys.
  'headers[*].value', '*.headers[*].value',
];

/**
 * JSON lines on stdout (or `destination`). Secrets are never passed in; the redact paths are
 * the second line of defence for a field that carries one anyway (`[Redacted]`). They cannot
 * reach into a message string: keep secrets out of messages.
 */
export function createLogger(level: string, destination?: LogDestination): Logger {
  return pino({ level, base: { app: 'hookyard' }, redact: { paths: REDACT_PATHS } }, destination);
}

/**
 * Readable lines for a person at a terminal, JSON lines for everything else: a pipe, a file, a
 * container runtime or a log shipper must never get colours and columns it cannot parse.
 */
export function wantsPrettyLogs(stdout: { isTTY?: boolean }): boolean {
  return stdout.isTTY === true;
}

/**
 * The process's logger (main.ts): JSON on stdout, or pino-pretty's lines, written synchronously
 * in this thread (a worker-thread transport would lose the last lines of a crash), when stdout
 * is a terminal. Redaction happens before either.
 */
export async function createProcessLogger(level: string, stdout: NodeJS.WriteStream = process.stdout): Promise<Logger> {
  if (!wantsPrettyLogs(stdout)) return createLogger(level);
  const { default: pretty } = await import('pino-pretty');
  return createLogger(level, pretty({ sync: true, destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' }));
}

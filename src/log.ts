import { pino, type DestinationStream, type Logger } from 'pino';
import { CREDENTIAL_HEADERS, SIGNATURE_HEADERS } from './crypto/redact.js';

export type { Logger };
export type LogDestination = DestinationStream;

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

/**
 * Every environment variable Hookyard reads, in one schema: name, default, description and
 * parser. The process validates the whole environment once at start and reports every bad
 * variable together; the README's configuration table is generated from this list.
 */

import { parseKey } from './crypto/keyring.js';
import { DEFAULT_FALLBACK_DIR } from './db/embedded-cluster-place.js';
import proxyaddr from 'proxy-addr';
import { parseAllowedProxies } from './delivery/allowed-proxies.js';
import { UUID_PATTERN } from './ids.js';

type Parser<T> = (raw: string) => T;

export interface Setting<T> {
  env: string;
  /** Shown in the README; `undefined` means "not set". */
  defaultText: string;
  description: string;
  parse: Parser<T>;
  fallback: () => T;
}

class ConfigError extends Error {}

function fail(message: string): never {
  throw new ConfigError(message);
}

const integer = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^\d+$/.test(raw)) fail(`must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) fail(`must be between ${min} and ${max}, got ${value}`);
  return value;
};

const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  if (!(values as string[]).includes(raw)) fail(`must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
};

const boolean: Parser<boolean> = (raw) => {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return fail(`must be true or false, got "${raw}"`);
};

const postgresUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('must be a postgres:// or postgresql:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') fail('must be a postgres:// or postgresql:// URL');
  return raw;
};

const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('must be an http:// or https:// URL');
  return raw.replace(/\/+$/, '');
};

const nonEmpty: Parser<string> = (raw) => (raw.length > 0 ? raw : fail('must not be empty'));

const absolutePath: Parser<string> = (raw) => (raw.startsWith('/') ? raw : fail(`must be an absolute path, got "${raw}"`));

const minLength = (n: number): Parser<string> => (raw) =>
  raw.length >= n ? raw : fail(`must be at least ${n} characters`);

const encryptionKey: Parser<string> = (raw) => {
  try {
    parseKey(raw);
  } catch (error) {
    fail((error as Error).message);
  }
  return raw;
};

/** Every comma-separated entry must be a key; the error names the entry's position, never its text. */
const encryptionKeyList: Parser<readonly string[]> = (raw) => {
  const entries = raw.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    try {
      parseKey(entry);
    } catch (error) {
      fail(`key ${index + 1} of ${entries.length} ${(error as Error).message}`);
    }
  });
  return Object.freeze(entries);
};

/** Exact origins (`https://console.example.com`), no path, no wildcard: CORS allows nothing else. */
const originList: Parser<readonly string[]> = (raw) => {
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== entry) fail(`must be comma-separated origins such as https://console.example.com (scheme, host, port; no path), got "${entry}"`);
  }
  return Object.freeze(entries);
};

const uuid: Parser<string> = (raw) =>
  UUID_PATTERN.test(raw) ? raw.toLowerCase() : fail('must be a relay id (a UUID)');

/** Addresses, CIDRs, or proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`). */
const proxyList: Parser<readonly string[]> = (raw) => {
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  try {
    proxyaddr.compile(entries);
  } catch (error) {
    fail(`must list addresses, CIDRs or loopback/linklocal/uniquelocal: ${(error as Error).message}`);
  }
  return Object.freeze(entries);
};

/** HOOKYARD_ALLOWED_PRIVATE_PROXIES: `host`, `host:port` or CIDR entries, checked here so a typo stops the start. */
const allowedProxyList: Parser<readonly string[]> = (raw) => {
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  try {
    parseAllowedProxies(entries);
  } catch (error) {
    fail(`must list host, host:port or CIDR entries: ${(error as Error).message}`);
  }
  return Object.freeze(entries);
};

const logLevel = oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent');

/** An OTLP endpoint: checked here so a typo stops the start; the OpenTelemetry SDK reads the variable itself. */
const otlpUrl: Parser<string> = (raw) => {
  httpUrl(raw);
  return raw;
};

const ratio: Parser<number> = (raw) => {
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) fail(`must be a number between 0 and 1, got "${raw}"`);
  return value;
};

function setting<T>(env: string, defaultText: string, description: string, parse: Parser<T>, fallback: () => T): Setting<T> {
  return { env, defaultText, description, parse, fallback };
}

const unset = (): undefined => undefined;

/** The schema. Order here is the order of the README table. */
export const settings = {
  port: setting('PORT', '3000', 'HTTP port for ingest, GraphQL, websockets and health', integer(0, 65535), () => 3000),
  databaseUrl: setting<string | undefined>('DATABASE_URL', 'embedded', 'PostgreSQL (14+) connection string; unset starts an embedded PostgreSQL under the data directory', postgresUrl, unset),
  dataDir: setting('HOOKYARD_DATA_DIR', '.hookyard', 'embedded database, generated encryption key and admin token (relative to the working directory, or absolute)', nonEmpty, () => '.hookyard'),
  embeddedFallbackDir: setting('HOOKYARD_EMBEDDED_FALLBACK_DIR', `\`${DEFAULT_FALLBACK_DIR}\``, 'where the embedded PostgreSQL goes, in a private `<id>` directory per data directory, when a root start\'s `postgres` OS user cannot traverse a directory above HOOKYARD_DATA_DIR (absolute path; never a shared temp dir)', absolutePath, () => DEFAULT_FALLBACK_DIR),
  role: setting('HOOKYARD_ROLE', 'all', '`api` (ingest + GraphQL), `worker` (deliveries) or `all`', oneOf('api', 'worker', 'all'), () => 'all' as const),
  trustedProxies: setting<readonly string[]>('HOOKYARD_TRUSTED_PROXIES', '—', 'comma-separated addresses or CIDRs (or `loopback`, `linklocal`, `uniquelocal`) of your reverse proxies: a request from one of them is taken to come from the address in its `X-Forwarded-For`, for per-address limits and logs. Unset: the peer address, and `X-Forwarded-For` is ignored', proxyList, () => []),
  publicUrl: setting<string | undefined>('HOOKYARD_PUBLIC_URL', 'http://localhost:$PORT', 'base of `Source.ingestUrl` and of links', httpUrl, unset),
  adminToken: setting<string | undefined>('HOOKYARD_ADMIN_TOKEN', '—', 'an always-valid ADMIN token (16+ characters)', minLength(16), unset),
  graphqlSandbox: setting<boolean | undefined>('HOOKYARD_GRAPHQL_SANDBOX', 'on unless NODE_ENV=production', '`true` serves Apollo Sandbox (HTML, runs nothing) to a browser GET of `/graphql`; `false` turns it off', boolean, unset),
  graphqlIntrospection: setting<boolean | undefined>('HOOKYARD_GRAPHQL_INTROSPECTION', 'on unless NODE_ENV=production', '`true` allows schema introspection and "did you mean" hints (to token holders only)', boolean, unset),
  corsOrigins: setting<readonly string[]>('HOOKYARD_CORS_ORIGINS', '— (no CORS)', 'comma-separated exact origins a browser may call `/graphql` from; unset: no `Access-Control-Allow-Origin` at all', originList, () => []),
  graphqlMaxAliases: setting('HOOKYARD_GRAPHQL_MAX_ALIASES', '20', 'aliases per GraphQL operation (`ALIAS_LIMIT`)', integer(1, 10_000), () => 20),
  graphqlMaxDepth: setting('HOOKYARD_GRAPHQL_MAX_DEPTH', '10', 'field nesting per GraphQL operation, fragments flattened (`DEPTH_LIMIT`)', integer(1, 1000), () => 10),
  graphqlMaxTokens: setting('HOOKYARD_GRAPHQL_MAX_TOKENS', '2000', 'lexical tokens per GraphQL document, counted before parsing (`TOKEN_LIMIT`)', integer(10, 1_000_000), () => 2000),
  graphqlMaxDirectives: setting('HOOKYARD_GRAPHQL_MAX_DIRECTIVES', '50', 'directives per GraphQL operation (`DIRECTIVE_LIMIT`)', integer(1, 10_000), () => 50),
  graphqlMaxCost: setting('HOOKYARD_GRAPHQL_MAX_COST', '150000', 'estimated cost per GraphQL operation (`COST_LIMIT`): 1 per field, `first` (default 20) multiplies a connection\'s fields, bodies and stats weigh 100, headers 10', integer(1, 1_000_000_000), () => 150_000),
  apiRateLimitPerSecond: setting('HOOKYARD_API_RATE_LIMIT_PER_SECOND', '50', 'GraphQL HTTP requests per second per API token, per process (`RATE_LIMITED`, 429 with Retry-After); 0 = off', integer(0, 1_000_000), () => 50),
  apiRateLimitBurst: setting('HOOKYARD_API_RATE_LIMIT_BURST', '100', 'extra requests a token may make above that rate, refilled over 10 seconds', integer(0, 1_000_000), () => 100),
  httpHeadersTimeoutMs: setting('HOOKYARD_HTTP_HEADERS_TIMEOUT_MS', '30000', 'longest a client may take to send a request\'s headers; then 408 and the connection closes (node:http `headersTimeout`)', integer(500, 3_600_000), () => 30_000),
  httpRequestTimeoutMs: setting('HOOKYARD_HTTP_REQUEST_TIMEOUT_MS', '120000', 'longest a client may take to send a whole request, body included; then 408 and the connection closes (node:http `requestTimeout`; not smaller than the headers timeout)', integer(500, 3_600_000), () => 120_000),
  httpMaxConnections: setting('HOOKYARD_HTTP_MAX_CONNECTIONS', '10000', 'open connections the HTTP server holds at once (websockets included); one more is closed at once. Providers send from few addresses over many connections, so keep it generous', integer(1, 1_000_000), () => 10_000),
  ingestInflightBytes: setting('HOOKYARD_INGEST_INFLIGHT_BYTES', '268435456', 'request bodies ingest may hold in memory at once, over all requests (declared lengths are reserved up front); past it `503 INGEST_BUSY` with Retry-After', integer(65_536, 64 * 1024 * 1024 * 1024), () => 256 * 1024 * 1024),
  ingestAcceptQueue: setting('HOOKYARD_INGEST_ACCEPT_QUEUE', '2048', 'verified requests waiting for a commit; one more is answered `503 INGEST_BUSY` at once and never stored', integer(1, 1_000_000), () => 2048),
  ingestCommitTimeoutMs: setting('HOOKYARD_INGEST_COMMIT_TIMEOUT_MS', '4500', 'how long a verified request waits for its commit: still queued then, it is dropped; in a transaction, the statement is cancelled. Either way `503 INGEST_BUSY` and nothing stored', integer(100, 60_000), () => 4500),
  ingestFailuresPerAddress: setting('HOOKYARD_INGEST_FAILURES_PER_ADDRESS', '120', 'refused requests (bad signature or credentials, unknown slug, oversized or compressed body) one client address (IPv4 /32, IPv6 /64) may make per source per minute; then 429 with Retry-After until the minute ends. Other addresses are never affected', integer(1, 1_000_000), () => 120),
  rejectedLogRowsPerSecond: setting('HOOKYARD_REJECTED_LOG_ROWS_PER_SECOND', '50', 'rows the rejected-request log writes per second at most (new buckets and count updates alike); the rest wait in its queue', integer(1, 100_000), () => 50),
  rejectedLogQueue: setting('HOOKYARD_REJECTED_LOG_QUEUE', '10000', 'rejected-request buckets waiting to be written; refusals past it are dropped from the log and counted in `hookyard_rejected_log_dropped_total`', integer(10, 10_000_000), () => 10_000),
  encryptionKey: setting<string | undefined>('HOOKYARD_ENCRYPTION_KEY', 'generated in development', '32 bytes as standard base64 (64 hex also accepted) sealing secrets at rest; key id = first 8 hex of its SHA-256. Required when NODE_ENV=production or roles are split', encryptionKey, unset),
  encryptionKeysOld: setting<readonly string[]>('HOOKYARD_ENCRYPTION_KEYS_OLD', '—', 'comma-separated earlier keys (same formats), readable but never used for new values', encryptionKeyList, () => []),
  dbPoolSize: setting('HOOKYARD_DB_POOL_SIZE', '10', 'PostgreSQL connections per process, in total, for ingest, the GraphQL API and workers (pg-boss\'s queue pool of 4, one LISTEN connection, in a process that serves ingest its one commit connection, and in a process that runs workers its two lane connections come on top)', integer(2, 500), () => 10),
  apiDbConnections: setting('HOOKYARD_API_DB_CONNECTIONS', '3', 'how many of HOOKYARD_DB_POOL_SIZE the GraphQL API may use; the rest are reserved for ingest and workers, so API reads can never take them (must be less than the pool size)', integer(1, 499), () => 3),
  apiStatementTimeoutMs: setting('HOOKYARD_API_STATEMENT_TIMEOUT_MS', '5000', 'longest a GraphQL API statement may run (PostgreSQL `statement_timeout`); a query past it fails with `QUERY_TIMEOUT`', integer(100, 600_000), () => 5000),
  workerConcurrency: setting('HOOKYARD_WORKER_CONCURRENCY', '128', 'deliveries one worker process sends at once, per lane (first tries, retries)', integer(1, 10000), () => 128),
  laneReservePercent: setting('HOOKYARD_LANE_RESERVE_PERCENT', '20', 'share of each lane\'s slots (rounded up, at least 1) that no single relay may take, so other relays always have room: a relay alone holds at most the rest (102 of 128)', integer(1, 90), () => 20),
  retryPollSeconds: setting('HOOKYARD_RETRY_POLL_SECONDS', '0.5', 'how often the retry lane looks for retries that came due (seconds, ≥ 0.5)', (raw) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0.5 || value > 60) fail(`must be a number between 0.5 and 60, got "${raw}"`);
    return value;
  }, () => 0.5),
  allowPrivateTargets: setting('HOOKYARD_ALLOW_PRIVATE_TARGETS', 'false', '`true` lets relays target private and loopback addresses (the SSRF guard is off)', boolean, () => false),
  egressProxy: setting<string | undefined>('HOOKYARD_EGRESS_PROXY', '—', 'proxy URL for outbound deliveries, so receivers can allow-list its addresses (`NO_PROXY` honoured); a relay\'s own `proxyUrl` wins', httpUrl, unset),
  egressProxySendsNames: setting('HOOKYARD_EGRESS_PROXY_SENDS_NAMES', 'false', '`true` asks HOOKYARD_EGRESS_PROXY to `CONNECT` to the receiver\'s name, for proxies that enforce egress rules by name; by default it is asked for the address Hookyard resolved and checked (no second resolution)', boolean, () => false),
  allowedPrivateProxies: setting<readonly string[]>('HOOKYARD_ALLOWED_PRIVATE_PROXIES', '—', 'comma-separated `host`, `host:port` or CIDR entries a relay\'s `proxyUrl` may name although private or loopback; any other private, loopback, link-local or metadata proxy is refused like a target', allowedProxyList, () => []),
  dnsTimeoutMs: setting('HOOKYARD_DNS_TIMEOUT_MS', '5000', 'how long one DNS query for a receiver (or a relay\'s proxy) may take; resolved with c-ares after the hosts file, never on libuv\'s thread pool', integer(100, 60_000), () => 5000),
  noProxy: setting<string | undefined>('NO_PROXY', '—', 'comma-separated hosts (and `.domain` suffixes) that bypass the egress proxy', nonEmpty, unset),
  alertRelayId: setting<string | undefined>('HOOKYARD_ALERT_RELAY_ID', '—', 'a relay that receives the signed `relay.disabled` operational event whenever a relay is disabled, besides the subscriptions of the built-in source (kept from before them; a subscription is the way for every other operational event)', uuid, unset),
  sourceRejectingThreshold: setting('HOOKYARD_SOURCE_REJECTING_THRESHOLD', '100', 'refusals of one source within HOOKYARD_SOURCE_REJECTING_WINDOW_MINUTES that send the `source.rejecting` operational event (after a quiet window); 0 = never', integer(0, 100_000_000), () => 100),
  sourceRejectingWindowMinutes: setting('HOOKYARD_SOURCE_REJECTING_WINDOW_MINUTES', '10', 'the window `source.rejecting` counts a source\'s refusals over; at most one such event per source per window, and none while the refusals go on', integer(1, 24 * 60), () => 10),
  disableAfterDead: setting('HOOKYARD_DISABLE_AFTER_DEAD', '5', 'consecutive DEAD deliveries that disable a relay', integer(1, 1_000_000), () => 5),
  disableAfterFailingHours: setting('HOOKYARD_DISABLE_AFTER_FAILING_HOURS', '24', 'hours of failing attempts without a success that disable a relay', integer(1, 24 * 365), () => 24),
  retentionHours: setting('HOOKYARD_RETENTION_HOURS', '72', 'how long finished deliveries, their attempts, events and rejected requests are kept', integer(1, 24 * 3650), () => 72),
  auditRetentionDays: setting('HOOKYARD_AUDIT_RETENTION_DAYS', '90', 'how long audit-log rows (every mutation: token, operation, target, outcome) are kept, in days', integer(1, 3650), () => 90),
  shutdownSeconds: setting('HOOKYARD_SHUTDOWN_SECONDS', '20', 'on SIGTERM, how long requests already received and in-flight deliveries may finish (deliveries still running are then released back to the queue); the process exits 0 within it', integer(0, 3600), () => 20),
  wsMaxPayloadBytes: setting('HOOKYARD_WS_MAX_PAYLOAD_BYTES', '65536', 'largest websocket frame a client may send; a larger one closes the socket (1009)', integer(1024, 16 * 1024 * 1024), () => 65536),
  wsSocketsPerAddress: setting('HOOKYARD_WS_SOCKETS_PER_ADDRESS', '50', 'open websockets per client address (IPv6: per /64; behind a reverse proxy, the proxy\'s); one more is closed with 4429', integer(1, 1_000_000), () => 50),
  wsSubscriptionsPerSocket: setting('HOOKYARD_WS_SUBSCRIPTIONS_PER_SOCKET', '100', 'operations one websocket may run at once; one more gets the error SUBSCRIPTION_LIMIT', integer(1, 1_000_000), () => 100),
  wsSubscriptionsPerToken: setting('HOOKYARD_WS_SUBSCRIPTIONS_PER_TOKEN', '500', 'operations one token may run at once over all its websockets in this process; one more gets SUBSCRIPTION_LIMIT', integer(1, 1_000_000), () => 500),
  wsMaxBufferedBytes: setting('HOOKYARD_WS_MAX_BUFFERED_BYTES', '4194304', 'bytes a websocket may have waiting to be sent; a client that stops reading past this is closed (1008)', integer(65536, 1024 * 1024 * 1024), () => 4 * 1024 * 1024),
  wsTokenRecheckSeconds: setting('HOOKYARD_WS_TOKEN_RECHECK_SECONDS', '60', 'how often the tokens of open websockets are checked again (also after every reconnect of the LISTEN connection); a revoked or expired one closes its sockets (4403)', integer(1, 3600), () => 60),
  authFailuresPerAddress: setting('HOOKYARD_AUTH_FAILURES_PER_ADDRESS', '100', 'failed token authentications one client address may make per window; then it is refused (429, websockets 4429) without a look-up until the window ends', integer(1, 1_000_000), () => 100),
  authFailureWindowSeconds: setting('HOOKYARD_AUTH_FAILURE_WINDOW_SECONDS', '60', 'the window of HOOKYARD_AUTH_FAILURES_PER_ADDRESS, in seconds', integer(1, 86_400), () => 60),
  metricsToken: setting<string | undefined>('HOOKYARD_METRICS_TOKEN', '—', 'when set, `/metrics` answers only requests with `Authorization: Bearer <it>` (16+ characters), others get 401; unset, it is open like `/healthz`', minLength(16), unset),
  metricsPort: setting<number | undefined>('HOOKYARD_METRICS_PORT', '—', 'serve `/metrics` on this port (all interfaces) instead of on `PORT`, to keep it off the public listener', integer(0, 65535), unset),
  metricsTopRelays: setting('HOOKYARD_METRICS_TOP_RELAYS', '20', 'per-relay series in `/metrics`: the relays with the most unfinished deliveries keep their own `relay` label, the rest are summed under `relay="_other"`, so many relays never make many series', integer(1, 1000), () => 20),
  metricsRefreshSeconds: setting('HOOKYARD_METRICS_REFRESH_SECONDS', '5', 'the database figures of `/metrics` (deliveries by status and relay, queue depth and age, retries scheduled, relays disabled) are read at most this often per process, however often it is scraped', integer(1, 3600), () => 5),
  logLevel: setting('LOG_LEVEL', 'info', 'pino level: fatal, error, warn, info, debug, trace or silent. JSON lines, or readable lines (pino-pretty) when stdout is a terminal', logLevel, () => 'info' as const),
  otlpEndpoint: setting<string | undefined>('OTEL_EXPORTER_OTLP_ENDPOINT', '— (no traces)', 'base URL of an OpenTelemetry collector (`http://collector:4318`; `/v1/traces` is appended): set, each ingest and each delivery attempt is a span exported over OTLP, and receivers get a `traceparent`. Unset (and no traces endpoint), no SDK starts', otlpUrl, unset),
  otlpTracesEndpoint: setting<string | undefined>('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '—', 'the full URL for traces (`http://collector:4318/v1/traces`), used as is; set alone, it also turns traces on', otlpUrl, unset),
  otlpProtocol: setting('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf', 'how spans travel to the collector: `http/protobuf`, `http/json` or `grpc`', oneOf('http/protobuf', 'http/json', 'grpc'), () => 'http/protobuf' as const),
  otlpHeaders: setting<string | undefined>('OTEL_EXPORTER_OTLP_HEADERS', '—', 'headers for the collector, `key=value` pairs separated by commas (a vendor\'s API key); read by the SDK, never logged', nonEmpty, unset),
  otelServiceName: setting('OTEL_SERVICE_NAME', 'hookyard', 'the `service.name` of the spans (say, `hookyard-api` and `hookyard-worker` for split roles)', nonEmpty, () => 'hookyard'),
  otelTracesSampler: setting('OTEL_TRACES_SAMPLER', 'parentbased_always_on', 'which traces are kept: `always_on`, `always_off`, `traceidratio`, or `parentbased_` one of those (an attempt follows its ingest\'s decision). An ingest span is always a new root: a provider\'s `traceparent` never decides', oneOf('always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'), () => 'parentbased_always_on' as const),
  otelTracesSamplerArg: setting<number | undefined>('OTEL_TRACES_SAMPLER_ARG', '1', 'the share of traces kept by a `traceidratio` sampler, 0 to 1', ratio, unset),
  otelSdkDisabled: setting('OTEL_SDK_DISABLED', 'false', '`true` keeps traces off even with an endpoint set', boolean, () => false),
  nodeEnv: setting('NODE_ENV', 'development', '`production` requires HOOKYARD_ENCRYPTION_KEY and turns off Sandbox and introspection', oneOf('development', 'production', 'test'), () => 'development' as const),
} as const;

type Settings = typeof settings;
export type Config = Readonly<{ [K in keyof Settings]: ReturnType<Settings[K]['fallback']> }>;

export class InvalidConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidConfigError';
  }
}

/** Reads and validates every setting; throws one error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const raw = env[entry.env];
    if (raw === undefined || raw === '') {
      result[key] = entry.fallback();
      continue;
    }
    try {
      result[key] = entry.parse(raw);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(`${entry.env} ${error.message}`);
    }
  }
  if (result.nodeEnv === 'production' && result.encryptionKey === undefined && problems.length === 0) {
    problems.push('HOOKYARD_ENCRYPTION_KEY must be set when NODE_ENV=production');
  }
  if (result.role !== 'all' && result.databaseUrl === undefined && problems.length === 0) {
    problems.push(`DATABASE_URL must be set when HOOKYARD_ROLE=${String(result.role)} (split roles share one database)`);
  }
  if (result.role !== 'all' && result.encryptionKey === undefined && problems.length === 0) {
    problems.push(`HOOKYARD_ENCRYPTION_KEY must be set when HOOKYARD_ROLE=${String(result.role)} (every process must hold the same key)`);
  }
  if (problems.length === 0 && (result.apiDbConnections as number) >= (result.dbPoolSize as number)) {
    problems.push(`HOOKYARD_API_DB_CONNECTIONS (${String(result.apiDbConnections)}) must be less than HOOKYARD_DB_POOL_SIZE (${String(result.dbPoolSize)}): ingest and workers need connections of their own`);
  }
  if (problems.length === 0 && (result.httpRequestTimeoutMs as number) < (result.httpHeadersTimeoutMs as number)) {
    problems.push(`HOOKYARD_HTTP_REQUEST_TIMEOUT_MS (${String(result.httpRequestTimeoutMs)}) must not be smaller than HOOKYARD_HTTP_HEADERS_TIMEOUT_MS (${String(result.httpHeadersTimeoutMs)})`);
  }
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return Object.freeze(result) as Config;
}

/** The README's configuration table, generated from the schema. */
export function configTable(): string {
  const rows = Object.values(settings).map(
    (entry) => `| \`${entry.env}\` | ${entry.defaultText} | ${entry.description} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

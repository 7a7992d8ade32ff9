import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { bearerToken } from './auth/authenticate.js';
import { Authenticator } from './auth/authenticator.js';
import { bootstrapAdminToken } from './auth/bootstrap-token.js';
import type { Config } from './config.js';
import { loadOrCreateKeyFile } from './crypto/encryption-key-file.js';
import { keyringFromConfig } from './crypto/keyring-from-config.js';
import { sealPlaintextProxyUrls } from './crypto/reencrypt.js';
import { parseKey, type Keyring } from './crypto/keyring.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres.js';
import { migrate } from './db/migrate.js';
import { ormConfig } from './db/orm-config.js';
import { createCorePool, poolSizes } from './db/pools.js';
import { HttpSender, type HttpSenderOptions } from './delivery/http-sender.js';
import type { DispatchDeps } from './delivery/dispatch.js';
import { RelayRates } from './delivery/relay-rates.js';
import { checkRelayUrl } from './delivery/ssrf-guard.js';
import { parseAllowedProxies } from './delivery/allowed-proxies.js';
import { startDeliveryWorkers } from './delivery/worker.js';
import { startRetention } from './maintenance/retention-job.js';
import { channels } from './db/notify/channels.js';
import { toUuid, type GraphQLContext, type Principal } from './graphql/context.js';
import { createLoaders, SharedEventLoader } from './graphql/loaders.js';
import { clientAddressResolver } from './http/client-address.js';
import { startWsServer, type WsLimits } from './http/ws-server.js';
import { DeliveryFeed } from './live/delivery-feed.js';
import { NotifyBus } from './db/notify/notify-bus.js';
import { RelayFeed } from './live/relay-feed.js';
import { EventFeed } from './live/event-feed.js';
import { buildHookyardSchema } from './graphql/schema.js';
import { OperationLimits } from './graphql/operation-limits.js';
import { startGraphQLRoute } from './http/graphql-route.js';
import { metricsHandler } from './http/metrics-route.js';
import { Admission } from './http/admission.js';
import { createHttpServer, json, type Route } from './http/server.js';
import { handleIngest, INGEST_PATH } from './ingest/route.js';
import { BodyBudget } from './ingest/body-budget.js';
import { RateLimits } from './ingest/rate-limit.js';
import { AcceptBatcher } from './events/accept-batcher.js';
import { SourceCache } from './ingest/source-cache.js';
import { RejectedLog } from './ingest/rejected-log.js';
import type { Logger } from './log.js';
import { startBoss } from './queue/boss.js';
import { VERSION } from './version.js';

export interface AppOptions {
  /** Test seam: DNS for outbound deliveries. */
  sender?: HttpSenderOptions;
  /** Seconds between pg-boss supervise passes (expired jobs of killed workers come back then). */
  superviseIntervalSeconds?: number;
  /** Test seam: how often the rejected-request log writes (default once a second). */
  rejectedLogFlushMs?: number;
}

export interface App {
  url: string;
  port: number;
  databaseUrl: string;
  /** Where `/metrics` is served when HOOKYARD_METRICS_PORT is set. */
  metricsUrl?: string;
  /** Ingest and workers. */
  pool: Pool;
  /** The GraphQL API's connections (the ORM's), with the statement timeout. */
  apiPool: Pool;
  orm: MikroORM;
  boss: PgBoss;
  keyring: Keyring;
  /** Live subscribers in this process (for readiness checks and metrics). */
  liveSubscribers(): number;
  stop(): Promise<void>;
}

async function resolveDatabase(config: Config, dataDir: string, log: Logger): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({ stateDir: dataDir, fallbackDir: config.embeddedFallbackDir, log: (line, level = 'info') => log[level](line) });
  await ensureDatabase(embedded.adminUrl, 'hookyard');
  return { url: embedded.url, embedded };
}

async function resolveKeyring(config: Config, dataDir: string, log: Logger): Promise<Keyring> {
  if (config.encryptionKey) return keyringFromConfig(config, parseKey(config.encryptionKey));
  const { key, created, file } = await loadOrCreateKeyFile(dataDir);
  if (created) log.warn({ file }, 'HOOKYARD_ENCRYPTION_KEY is not set: generated a development key (set the variable in production)');
  else log.info({ file }, 'HOOKYARD_ENCRYPTION_KEY is not set: using the development key file');
  return keyringFromConfig(config, key);
}

/**
 * The composition root: database, migrations, queue, HTTP server, GraphQL and workers for the
 * configured role. Resolves once everything the role serves is up (what /readyz reports).
 */
export async function startApp(config: Config, log: Logger, options: AppOptions = {}): Promise<App> {
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const serveApi = config.role !== 'worker';
  const runWorkers = config.role !== 'api';
  let ready = false;
  const admission = new Admission();
  const cleanups: [string, () => Promise<void>][] = [];
  let liveSubscribers = (): number => 0;
  let draining = async (): Promise<void> => undefined;
  let stopWorkers = async (): Promise<void> => undefined;
  const stop = async () => {
    ready = false;
    // First, side by side: no new requests (those received are answered while everything is
    // still up), and no new deliveries claimed (those in flight finish or are released).
    await Promise.all([draining(), stopWorkers()]);
    for (const [name, cleanup] of cleanups.reverse()) {
      log.debug({ step: name }, 'stopping');
      await cleanup().catch((error: unknown) => log.warn({ err: error, step: name }, 'error while stopping'));
    }
  };

  try {
    // Health answers from the first moment; readiness only once everything below is up.
    const metrics: Route = { path: /^\/metrics$/, methods: ['GET', 'HEAD'], handler: metricsHandler({ token: config.metricsToken, liveSubscribers: () => liveSubscribers() }) };
    const routes: Route[] = [
      { path: /^\/healthz$/, methods: ['GET', 'HEAD'], always: true, handler: async (_q, r) => json(r, 200, { status: 'ok' }) },
      { path: /^\/readyz$/, methods: ['GET', 'HEAD'], always: true, handler: async (_q, r) => json(r, ready ? 200 : 503, { status: ready ? 'ready' : 'starting' }) },
      ...(config.metricsPort === undefined ? [metrics] : []),
    ];
    // Every other route answers 503 until `admission.open()` below: no 404 for a route not mounted yet.
    const server = createHttpServer(routes, log, { headersTimeoutMs: config.httpHeadersTimeoutMs, requestTimeoutMs: config.httpRequestTimeoutMs, maxConnections: config.httpMaxConnections }, admission);
    const clientAddress = clientAddressResolver(config.trustedProxies);
    await listen(server, config.port);
    cleanups.push(['http server', () => closeServer(server)]);
    // Within HOOKYARD_SHUTDOWN_SECONDS, leaving a moment for the rest of the stop.
    draining = () => admission.drain(server, Math.max(0, config.shutdownSeconds * 1000 - 2000));
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      const metricsServer = createHttpServer([metrics], log);
      await listen(metricsServer, config.metricsPort);
      cleanups.push(['metrics server', () => closeServer(metricsServer)]);
      metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
    }
    const port = (server.address() as AddressInfo).port;
    const publicUrl = config.publicUrl ?? `http://localhost:${port}`;

    const keyring = await resolveKeyring(config, dataDir, log);
    const database = await resolveDatabase(config, dataDir, log);
    if (database.embedded) cleanups.push(['embedded postgres', () => database.embedded!.stop()]);

    await migrate(database.url);
    // Two pools: GraphQL can never take the connections ingest and workers need, and its
    // statements end at a timeout.
    const sizes = poolSizes(config.dbPoolSize, config.apiDbConnections, serveApi);
    const pool = createCorePool(database.url, sizes.core, log);
    cleanups.push(['core pool', () => pool.end()]);
    // Proxy URLs stored in plaintext before they were sealed (a migration holds no key).
    const sealedProxies = await sealPlaintextProxyUrls(pool, keyring);
    if (sealedProxies > 0) log.info({ relays: sealedProxies }, 'sealed relay proxy URLs stored in plaintext');
    const orm = await MikroORM.init({
      ...ormConfig(database.url, sizes.api),
      driverOptions: { connectionTimeoutMillis: 3000, application_name: 'hookyard-api', statement_timeout: config.apiStatementTimeoutMs },
      logger: (message: string) => log.debug({ orm: true }, message),
    });
    cleanups.push(['orm', () => orm.close()]);
    const apiPool = (await orm.em.getConnection().getNativeClient()) as Pool;

    const boss = await startBoss({ databaseUrl: database.url, superviseIntervalSeconds: options.superviseIntervalSeconds });
    cleanups.push(['pg-boss', () => boss.stop({ graceful: true, timeout: 10_000 })]);

    // One LISTEN connection per process: live feeds, token revocations, worker wake-ups.
    const bus = new NotifyBus({ connectionString: database.url, log });
    await bus.start();
    cleanups.push(['notify bus', () => bus.stop()]);

    const token = await bootstrapAdminToken(pool, dataDir, config.adminToken);
    if (token) process.stderr.write(`\nHookyard admin token (shown once, also in ${path.join(dataDir, 'admin-token')}):\n  ${token}\n\n`);

    // What sending a delivery needs: the workers, and the API for sendTestEvent.
    const allowedProxies = parseAllowedProxies(config.allowedPrivateProxies);
    const sender = new HttpSender({
      allowPrivate: config.allowPrivateTargets, egressProxy: config.egressProxy, noProxy: config.noProxy, egressProxySendsNames: config.egressProxySendsNames,
      allowedPrivateProxies: allowedProxies, dnsTimeoutMs: config.dnsTimeoutMs, ...options.sender,
    });
    cleanups.push(['http sender', () => sender.close()]);
    const deps: DispatchDeps = {
      pool, boss, keyring, sender, log, userAgent: `Hookyard/${VERSION}`, rates: new RelayRates(pool), alertRelayId: config.alertRelayId,
      health: { deadThreshold: config.disableAfterDead, failingHours: config.disableAfterFailingHours },
    };

    let live: DeliveryFeed | undefined;
    let relayStatus: RelayFeed | undefined;
    let eventStream: EventFeed | undefined;
    if (serveApi) {
      const rejected = new RejectedLog(pool, log, { rowsPerSecond: config.rejectedLogRowsPerSecond, maxBuckets: config.rejectedLogQueue, flushEveryMs: options.rejectedLogFlushMs });
      rejected.start();
      cleanups.push(['rejected-request log', () => rejected.stop()]);
      const rateLimits = new RateLimits(config.ingestFailuresPerAddress);
      const bodyBudget = new BodyBudget(config.ingestInflightBytes);
      const acceptor = new AcceptBatcher(pool, boss, { maxQueue: config.ingestAcceptQueue, timeoutMs: config.ingestCommitTimeoutMs });
      const sources = new SourceCache(pool, keyring, log);
      sources.listen(bus);
      cleanups.push(['source cache', async () => sources.stop()]);
      routes.push({
        path: INGEST_PATH,
        handler: (request, response, url, match) => handleIngest({ pool, boss, keyring, rejected, rateLimits, bodyBudget, acceptor, sources, log, clientAddress }, request, response, safeDecode(match[1]!), url),
      });

      const feed = new DeliveryFeed(pool, bus, log);
      live = feed;
      feed.start();
      cleanups.push(['live feed', async () => feed.stop()]);
      const eventFeed = new EventFeed(pool, bus, log);
      eventFeed.start();
      cleanups.push(['event feed', async () => eventFeed.stop()]);
      const relayFeed = new RelayFeed(bus, log);
      relayStatus = relayFeed;
      eventStream = eventFeed;
      relayFeed.start();
      cleanups.push(['relay feed', async () => relayFeed.stop()]);

      const schema = await buildHookyardSchema({ log });
      const relayUrlCheck = (url: string, kind: 'target' | 'proxy') => checkRelayUrl(url, {
        allowPrivate: config.allowPrivateTargets, resolve: sender.resolve, allowUnresolvable: true, timeoutMs: 2000,
        exempt: kind === 'proxy' ? (host, port, address) => allowedProxies.allows(host, port, address) : undefined,
      }, kind);
      const apiDelivery: DispatchDeps = { ...deps, pool: apiPool };
      const context = (principal: Principal, sharedEvents?: SharedEventLoader): GraphQLContext => {
        const em = orm.em.fork();
        return { em, pool: apiPool, boss, keyring, principal, publicUrl, loaders: createLoaders(em, apiPool, sharedEvents), retentionHours: config.retentionHours, live: feed, relayFeed, eventFeed, delivery: apiDelivery, uuid: toUuid, checkRelayUrl: relayUrlCheck };
      };
      const authenticator = new Authenticator(apiPool, { adminToken: config.adminToken, failuresPerAddress: config.authFailuresPerAddress, failureWindowSeconds: config.authFailureWindowSeconds }, log);
      const sharedEvents = new SharedEventLoader(apiPool);
      const limits = new OperationLimits(schema, config);
      const ws = startWsServer({
        schema, path: '/graphql', log, limits: wsLimits(config), clientAddress,
        authenticate: (value, address) => authenticator.authenticate(bearerToken(value) ?? value, address),
        usableTokens: (ids) => authenticator.usable(ids),
        context: (principal) => context(principal, sharedEvents),
        prepare: (payload) => limits.prepare(payload),
      });
      cleanups.push(['websockets', () => ws.close()]);
      // A revoked token's sockets close on every replica, not only the one that revoked it; a
      // revocation sent while this replica's LISTEN connection was down is caught on reconnect.
      bus.subscribe(channels.tokenRevoked, { receive: (ids) => ids.forEach((id) => ws.revoke(id)), resync: () => ws.recheckTokens() });

      const graphql = await startGraphQLRoute({
        schema, limits, config, context, log,
        authenticate: (request) => authenticator.authenticate(bearerToken(request.headers.authorization), clientAddress(request)),
      });
      cleanups.push(['apollo', graphql.stop]);
      routes.push({ ...graphql.route, upgrade: ws.upgrade });
    }

    if (runWorkers) {
      const workers = await startDeliveryWorkers(boss, bus, deps, { concurrency: config.workerConcurrency, reservePercent: config.laneReservePercent, retryPollSeconds: config.retryPollSeconds });
      stopWorkers = () => workers.stop(config.shutdownSeconds * 1000).catch((error: unknown) => log.warn({ err: error, step: 'delivery workers' }, 'error while stopping'));
      await startRetention(boss, pool, { retentionHours: config.retentionHours, auditRetentionDays: config.auditRetentionDays, log });
    }

    ready = true;
    admission.open();
    log.info({ url: `http://127.0.0.1:${port}`, role: config.role, embedded: Boolean(database.embedded) }, 'Hookyard is ready');
    liveSubscribers = () => (live?.subscriberCount ?? 0) + (relayStatus?.subscriberCount ?? 0) + (eventStream?.subscriberCount ?? 0);
    return { url: `http://127.0.0.1:${port}`, port, databaseUrl: database.url, metricsUrl, pool, apiPool, orm, boss, keyring, liveSubscribers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function wsLimits(config: Config): WsLimits {
  return {
    maxPayloadBytes: config.wsMaxPayloadBytes, socketsPerAddress: config.wsSocketsPerAddress, subscriptionsPerSocket: config.wsSubscriptionsPerSocket,
    subscriptionsPerToken: config.wsSubscriptionsPerToken, maxBufferedBytes: config.wsMaxBufferedBytes, tokenRecheckMs: config.wsTokenRecheckSeconds * 1000,
  };
}

/** A slug with broken percent-encoding is just an unknown slug (404), not a server error. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Unspecified host: listens on :: (and 0.0.0.0), so 127.0.0.1 answers.
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // After the drain: what is still open (a request past the deadline) is cut, not waited for.
    server.closeAllConnections();
  });
}

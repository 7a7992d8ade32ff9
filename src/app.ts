import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Tracer } from '@opentelemetry/api';
import { Authenticator } from './auth/authenticator.js';
import { bootstrapAdminToken } from './auth/bootstrap-token.js';
import type { Principal } from './auth/principal.js';
import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import { sealPlaintextProxyUrls } from './crypto/reencrypt.js';
import { migrate } from './db/migrate.js';
import { ormConfig } from './db/orm-config.js';
import { countsOf, setPoolGauges } from './db/pool-gauges.js';
import { createCorePool, createIngestPool, createLanePool, poolSizes } from './db/pools.js';
import { parseAllowedProxies } from './delivery/allowed-proxies.js';
import { readBacklog } from './delivery/backlog.js';
import { BacklogGauges } from './delivery/backlog-gauges.js';
import type { DispatchDeps } from './delivery/dispatch.js';
import { HttpSender, type HttpSenderOptions } from './delivery/http-sender.js';
import { createDestinations } from './delivery/destinations/index.js';
import { sendTestEvent } from './delivery/test-event.js';
import { OpenedSecrets } from './delivery/opened-secrets.js';
import { RelayRates } from './delivery/relay-rates.js';
import { checkRelayUrl } from './delivery/ssrf-guard.js';
import { startDeliveryWorkers } from './delivery/worker.js';
import { AcceptBatcher } from './events/accept-batcher.js';
import { websocketScopeRefusal } from './graphql/authorization.js';
import { toUuid, type GraphQLContext } from './graphql/context.js';
import { createLoaders, SharedEventLoader } from './graphql/loaders.js';
import { OperationLimits } from './graphql/operation-limits.js';
import { buildHookyardSchema } from './graphql/schema.js';
import { Admission } from './http/admission.js';
import { apiAuthentication } from './http/api-authentication.js';
import { clientAddressResolver, trustedPeerResolver } from './http/client-address.js';
import { consoleRoute } from './http/console-route.js';
import { startGraphQLRoute } from './http/graphql-route.js';
import { healthRoutes } from './http/health.js';
import { metricsRoute } from './http/metrics-route.js';
import { closeServer, createHttpServer, listen, type Route } from './http/server.js';
import { startWsServer } from './http/ws-server.js';
import { BodyBudget } from './wire/body-budget.js';
import { RateLimits } from './ingest/rate-limit.js';
import { RejectedLog } from './ingest/rejected-log.js';
import { ingestHandler, INGEST_PATH } from './ingest/route.js';
import { SourceCache } from './sources/source-cache.js';
import { channels } from './db/notify/channels.js';
import { NotifyBus } from './db/notify/notify-bus.js';
import { startFeeds, type Feeds } from './live/start-feeds.js';
import type { Logger } from './log.js';
import { startRetention } from './maintenance/retention-job.js';
import { startBoss } from './queue/boss.js';
import { graphqlRouteSettings, operationLimitsSettings, serverLimits, wsLimits } from './startup/api-settings.js';
import { appDatabase } from './startup/database.js';
import { appKeyring } from './startup/keyring.js';
import { startTracing } from './startup/tracing.js';
import { VERSION } from './version.js';

export interface AppOptions {
  /** Test seam: DNS for outbound deliveries. */
  sender?: HttpSenderOptions;
  /** Seconds between pg-boss supervise passes (expired jobs of killed workers come back then). */
  superviseIntervalSeconds?: number;
  /** Test seam: how often the rejected-request log writes (default once a second). */
  rejectedLogFlushMs?: number;
  /**
   * Test seam: a tracer (an in-memory exporter's) instead of the OpenTelemetry SDK that an
   * OTLP endpoint starts (startup/tracing.ts).
   */
  tracer?: Tracer;
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
  let collectMetrics = async (): Promise<void> => undefined;
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
    const metrics = metricsRoute({ token: config.metricsToken, liveSubscribers: () => liveSubscribers(), collect: () => collectMetrics() });
    const routes: Route[] = [...healthRoutes(() => ready), ...(config.metricsPort === undefined ? [metrics] : [])];
    // Every other route answers 503 until `admission.open()` below: no 404 for a route not mounted yet.
    const server = createHttpServer(routes, log, serverLimits(config), admission);
    const clientAddress = clientAddressResolver(config.trustedProxies);
    const port = await listen(server, config.port);
    cleanups.push(['http server', () => closeServer(server)]);
    // Within HOOKYARD_SHUTDOWN_SECONDS, leaving a moment for the rest of the stop.
    draining = () => admission.drain(server, Math.max(0, config.shutdownSeconds * 1000 - 2000));
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      const metricsServer = createHttpServer([metrics], log);
      const metricsPort = await listen(metricsServer, config.metricsPort);
      cleanups.push(['metrics server', () => closeServer(metricsServer)]);
      metricsUrl = `http://127.0.0.1:${metricsPort}`;
    }
    const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
    let tracer = options.tracer;
    if (!tracer) {
      const tracing = await startTracing(config, log);
      // Pushed early, so it runs late: the spans of the last deliveries are exported on the way out.
      if (tracing) cleanups.push(['tracing', () => tracing.shutdown()]);
      tracer = tracing?.tracer;
    }

    const keyring = await appKeyring(config, dataDir, log);
    const database = await appDatabase(config, dataDir, log);
    if (database.embedded) cleanups.push(['embedded postgres', () => database.close()]);

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

    const boss = await startBoss({ databaseUrl: database.url, superviseIntervalSeconds: options.superviseIntervalSeconds, supervise: runWorkers });
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
    const secrets = new OpenedSecrets(keyring);
    const userAgent = `Hookyard/${VERSION}`;
    const destinations = createDestinations({ sender, secrets, userAgent, allowPrivate: config.allowPrivateTargets, dnsTimeoutMs: config.dnsTimeoutMs });
    cleanups.push(['email transporters', () => destinations.EMAIL.close()]);
    const deps: DispatchDeps = {
      pool, boss, keyring, destinations, log, rates: new RelayRates(pool), alertRelayId: config.alertRelayId,
      health: { deadThreshold: config.disableAfterDead, failingHours: config.disableAfterFailingHours }, tracer,
    };

    let feeds: Feeds | undefined;
    let ingestPool: Pool | undefined;
    let lanePool: Pool | undefined;
    if (serveApi) {
      const rejected = new RejectedLog(pool, log, {
        rowsPerSecond: config.rejectedLogRowsPerSecond, maxBuckets: config.rejectedLogQueue, flushEveryMs: options.rejectedLogFlushMs,
        rejecting: { boss, threshold: config.sourceRejectingThreshold, windowMinutes: config.sourceRejectingWindowMinutes },
      });
      rejected.start();
      cleanups.push(['rejected-request log', () => rejected.stop()]);
      const rateLimits = new RateLimits(config.ingestFailuresPerAddress);
      const bodyBudget = new BodyBudget(config.ingestInflightBytes);
      const commits = createIngestPool(database.url, log);
      ingestPool = commits;
      cleanups.push(['ingest pool', () => commits.end()]);
      const acceptor = new AcceptBatcher(commits, boss, { maxQueue: config.ingestAcceptQueue, timeoutMs: config.ingestCommitTimeoutMs });
      const sources = new SourceCache(pool, keyring, log);
      sources.listen(bus);
      cleanups.push(['source cache', async () => sources.stop()]);
      routes.push({ path: INGEST_PATH, handler: ingestHandler({
        pool, boss, keyring, rejected, rateLimits, bodyBudget, acceptor, sources, log, clientAddress, viaTrustedProxy: trustedPeerResolver(config.trustedProxies), tracer,
      }) });

      const live = startFeeds(pool, bus, log);
      feeds = live;
      cleanups.push(['live feeds', async () => live.stop()]);

      const schema = await buildHookyardSchema({ log });
      const relayUrlCheck = (url: string, kind: 'target' | 'proxy') => checkRelayUrl(url, {
        allowPrivate: config.allowPrivateTargets, resolve: sender.resolve, allowUnresolvable: true, timeoutMs: 2000,
        exempt: kind === 'proxy' ? (host, port, address) => allowedProxies.allows(host, port, address) : undefined,
      }, kind);
      const apiDelivery: DispatchDeps = { ...deps, pool: apiPool };
      const context = (principal: Principal, sharedEvents?: SharedEventLoader): GraphQLContext => {
        const em = orm.em.fork();
        return {
          em, pool: apiPool, boss, keyring, principal, publicUrl, loaders: createLoaders(em, apiPool, config.retentionHours, sharedEvents), retentionHours: config.retentionHours,
          deliveryFeed: live.deliveries, relayFeed: live.relays, eventFeed: live.events, log, alertRelayId: apiDelivery.alertRelayId,
          sendTestEvent: (relayId) => sendTestEvent(apiDelivery, relayId), uuid: toUuid, checkRelayUrl: relayUrlCheck,
        };
      };
      const authenticator = new Authenticator(apiPool, { adminToken: config.adminToken, failuresPerAddress: config.authFailuresPerAddress, failureWindowSeconds: config.authFailureWindowSeconds }, log);
      const authenticate = apiAuthentication(authenticator, clientAddress);
      const sharedEvents = new SharedEventLoader(apiPool);
      const limits = new OperationLimits(schema, operationLimitsSettings(config));
      const ws = startWsServer({
        schema, path: '/graphql', log, limits: wsLimits(config), clientAddress,
        authenticate: authenticate.socket,
        usableTokens: (ids) => authenticator.usable(ids),
        context: (principal) => context(principal, sharedEvents),
        prepare: (payload) => limits.prepare(payload),
        authorize: websocketScopeRefusal,
      });
      cleanups.push(['websockets', () => ws.close()]);
      // A revoked token's sockets close on every replica, not only the one that revoked it; a
      // revocation sent while this replica's LISTEN connection was down is caught on reconnect.
      bus.subscribe(channels.tokenRevoked, { receive: (ids) => ids.forEach((id) => ws.revoke(id)), resync: () => ws.recheckTokens() });

      const graphql = await startGraphQLRoute({ schema, limits, settings: graphqlRouteSettings(config), context, log, authenticate: authenticate.http });
      cleanups.push(['apollo', graphql.stop]);
      routes.push({ ...graphql.route, upgrade: ws.upgrade });
      // The browser console: static files of the build, at / and /assets/ only.
      routes.push(await consoleRoute());
    }

    if (runWorkers) {
      const lanes = createLanePool(database.url, 2, log);
      lanePool = lanes;
      cleanups.push(['delivery lane pool', () => lanes.end()]);
      const workers = await startDeliveryWorkers(boss, bus, deps, { lanes, concurrency: config.workerConcurrency, reservePercent: config.laneReservePercent, retryPollSeconds: config.retryPollSeconds });
      stopWorkers = () => workers.stop(config.shutdownSeconds * 1000).catch((error: unknown) => log.warn({ err: error, step: 'delivery workers' }, 'error while stopping'));
      await startRetention(boss, pool, { retentionHours: config.retentionHours, auditRetentionDays: config.auditRetentionDays, log });
    }

    // The figures of /metrics that are read at scrape time: the backlog (from the database, the
    // same on every process) and this process's pools.
    const backlog = new BacklogGauges({ read: () => readBacklog(pool, boss), topRelays: config.metricsTopRelays, refreshMs: config.metricsRefreshSeconds * 1000, log });
    collectMetrics = () => {
      setPoolGauges({ core: () => countsOf(pool), api: () => countsOf(apiPool), ingest: () => ingestPool && countsOf(ingestPool), lanes: () => lanePool && countsOf(lanePool), queue: () => boss.getDb().poolCounts?.() });
      return backlog.update();
    };
    ready = true;
    admission.open();
    log.info({ url: `http://127.0.0.1:${port}`, role: config.role, embedded: database.embedded }, 'Hookyard is ready');
    liveSubscribers = () => feeds?.subscriberCount() ?? 0;
    return { url: `http://127.0.0.1:${port}`, port, databaseUrl: database.url, metricsUrl, pool, apiPool, orm, boss, keyring, liveSubscribers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

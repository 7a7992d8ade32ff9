import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { liveSubscribers as liveSubscribersGauge, registry } from '../metrics.js';
import { sendJson } from '../wire/json-response.js';
import type { Handler, Route } from './server.js';

export interface MetricsOptions {
  /** HOOKYARD_METRICS_TOKEN: when set, a scrape must send `Authorization: Bearer <it>`. */
  token?: string;
  liveSubscribers(): number;
  /**
   * Brings the gauges read from elsewhere (the database, the pools) up to date before a scrape
   * is answered; set once the app has what they read (app.ts).
   */
  collect?(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compared as digests, so neither the length nor the content leaks through timing. */
function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * `/metrics` in Prometheus text. Open (like `/healthz`) unless a token is configured; served
 * on the main port or, with HOOKYARD_METRICS_PORT, on a port of its own (app.ts decides).
 */
export function metricsHandler(options: MetricsOptions): Handler {
  return async (request, response) => {
    if (options.token !== undefined && !authorized(request, options.token)) {
      const body = { error: { code: 'UNAUTHENTICATED', message: 'metrics need Authorization: Bearer <HOOKYARD_METRICS_TOKEN>' } };
      sendJson(response, 401, body, { 'www-authenticate': 'Bearer realm="metrics"' });
      return;
    }
    liveSubscribersGauge.set(options.liveSubscribers());
    await options.collect?.();
    const body = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(body);
  };
}

/** `GET /metrics`, on the main server or on a server of its own. */
export function metricsRoute(options: MetricsOptions): Route {
  return { path: /^\/metrics$/, methods: ['GET', 'HEAD'], handler: metricsHandler(options) };
}

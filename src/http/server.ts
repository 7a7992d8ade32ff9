import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';

/** A route handler; `match` is the path regex's result. */
export type Handler = (request: IncomingMessage, response: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

export interface Route {
  path: RegExp;
  handler: Handler;
}

function notFound(response: ServerResponse): void {
  const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  response.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** What one client can hold of the server: time to send a request, and connections. */
export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

const NODE_DEFAULTS: ServerLimits = { headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, maxConnections: Infinity };

/**
 * `node:http` with a list of routes, tried in order. A handler that throws gets a masked 500:
 * a stack trace never reaches a client. A request that takes longer than its timeouts to
 * arrive gets Node's 408; a connection past `maxConnections` is closed as it arrives.
 */
export function createHttpServer(routes: Route[], log: Logger, limits: ServerLimits = NODE_DEFAULTS): Server {
  const server = createServer({
    keepAliveTimeout: 65_000,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts on this interval (30 s by default): a few times per timeout.
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
  }, (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    for (const route of routes) {
      const match = route.path.exec(url.pathname);
      if (!match) continue;
      route.handler(request, response, url, match).catch((error: unknown) => {
        log.error({ err: error, path: url.pathname }, 'request failed');
        if (!response.headersSent) {
          const body = JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } });
          response.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          response.end(body);
        } else {
          response.destroy();
        }
      });
      return;
    }
    notFound(response);
  });
  server.maxConnections = limits.maxConnections;
  return server;
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Admission } from './admission.js';
import { sendJson } from '../wire/json-response.js';
import { refuseAfterBody } from './refuse-after-body.js';
import { answerSocket } from './socket-answer.js';

/** A route handler; `match` is the path regex's result. */
export type Handler = (request: IncomingMessage, response: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

export interface Route {
  path: RegExp;
  handler: Handler;
  /** The methods it serves; any other is a 405 with `Allow`. Unset: the handler checks (ingest logs its refusals). */
  methods?: readonly string[];
  /** Answers while the process starts and stops too (health checks); every other route is 503 then. */
  always?: boolean;
  /** Takes a websocket upgrade on this path. */
  upgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** What `CONNECT` (which names no path) is told the server serves. */
const SERVED_METHODS = 'GET, HEAD, POST, OPTIONS';

function refuse(response: ServerResponse, error: AppError, headers: Record<string, string> = {}): void {
  sendJson(response, error.status, error.toBody(), headers);
}

function methodNotAllowed(allow: string): AppError {
  return new AppError('METHOD_NOT_ALLOWED', `this route accepts ${allow} only`);
}

const retryAfter = (error: AppError) => ({ 'retry-after': String(error.details.retryAfter ?? 1) });

/** What one client can hold of the server: time to send a request, and connections. */
export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

const NODE_DEFAULTS: ServerLimits = { headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, maxConnections: Infinity };

/**
 * `node:http` with a list of routes, tried in order. Until `admission` lets requests through
 * (and again while it drains), every route but the health checks answers 503 with
 * Retry-After, unknown paths and websocket upgrades included. A method a route does not serve
 * is a 405 with `Allow`, `CONNECT` included (Node hands it over as a bare socket). A handler
 * that throws gets a masked 500: a stack trace never reaches a client. A request that takes
 * longer than its timeouts to arrive gets Node's 408; a connection past `maxConnections` is
 * closed as it arrives.
 */
export function createHttpServer(routes: Route[], log: Logger, limits: ServerLimits = NODE_DEFAULTS, admission?: Admission): Server {
  const server = createServer({
    keepAliveTimeout: 65_000,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts on this interval (30 s by default): a few times per timeout.
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
  }, (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const found = find(routes, url.pathname);
    const refusal = found?.route.always ? undefined : admission?.refusal();
    if (refusal) {
      // While draining, the connection closes after the answer: the client's next try finds another replica.
      const headers = { ...retryAfter(refusal), ...(refusal.code === 'SHUTTING_DOWN' ? { connection: 'close' } : {}) };
      return refuseAfterBody(request, response, refusal.status, refusal.toBody(), headers);
    }
    if (!found) return refuse(response, new AppError('NOT_FOUND', 'no such route'));
    const { route, match } = found;
    if (route.methods && !route.methods.includes(request.method ?? '')) {
      const allow = route.methods.join(', ');
      return refuse(response, methodNotAllowed(allow), { allow });
    }
    admission?.track(response);
    route.handler(request, response, url, match).catch((error: unknown) => {
      log.error({ err: error, path: url.pathname }, 'request failed');
      if (!response.headersSent) refuse(response, new AppError('INTERNAL', 'internal error'));
      else response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const found = find(routes, new URL(request.url ?? '/', 'http://localhost').pathname);
    const refusal = admission?.refusal();
    if (refusal) return answerSocket(socket, refusal, retryAfter(refusal));
    if (!found?.route.upgrade) return answerSocket(socket, new AppError('NOT_FOUND', 'no websocket on this path'));
    found.route.upgrade(request, socket, head);
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    answerSocket(socket, methodNotAllowed(SERVED_METHODS), { allow: SERVED_METHODS });
  });
  server.maxConnections = limits.maxConnections;
  return server;
}

function find(routes: Route[], pathname: string): { route: Route; match: RegExpExecArray } | undefined {
  for (const route of routes) {
    const match = route.path.exec(pathname);
    if (match) return { route, match };
  }
  return undefined;
}

/** Listens on `port` (0: any free one) and resolves with the port taken. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Unspecified host: listens on :: (and 0.0.0.0), so 127.0.0.1 answers.
    server.listen(port, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes the server once its drain is over (http/admission.ts). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // After the drain: what is still open (a request past the deadline) is cut, not waited for.
    server.closeAllConnections();
  });
}

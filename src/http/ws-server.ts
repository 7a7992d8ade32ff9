import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuthOutcome } from '../auth/authenticator.js';
import { addressKey } from '../auth/remote-address.js';
import { errorCodes } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import type { GraphQLContext } from '../graphql/context.js';
import { subscribeSharingResults } from '../graphql/shared-execution.js';
import type { Logger } from '../log.js';
import type { ClientAddress } from './client-address.js';
import { coalesceSends } from './coalesced-send.js';

export interface WsLimits {
  /** Largest frame a client may send; ws closes a socket sending more with 1009 before reading it. */
  maxPayloadBytes: number;
  socketsPerAddress: number;
  /** Operations in flight on one socket (subscriptions, and queries while they run). */
  subscriptionsPerSocket: number;
  /** Operations in flight for one token over all its sockets in this process. */
  subscriptionsPerToken: number;
  /** Bytes waiting to be sent past which a socket counts as not reading and is closed. */
  maxBufferedBytes: number;
  /** Pause between re-checks of the open sockets' tokens. */
  tokenRecheckMs: number;
}

export interface WsServerOptions {
  schema: GraphQLSchema;
  path: string;
  limits: WsLimits;
  log: Logger;
  /** Who opened the socket (the peer, or what a trusted reverse proxy saw): sockets per address and the failure throttle count under it. */
  clientAddress: ClientAddress;
  /** Resolves `connectionParams.authorization` (from the given address) to a principal or a refusal. */
  authenticate(authorization: string | undefined, remoteAddress: string | undefined): Promise<AuthOutcome>;
  /** Of the given token ids, those still usable. */
  usableTokens(tokenIds: readonly string[]): Promise<Set<string>>;
  context(principal: Principal): GraphQLContext;
  /** The operation limits HTTP applies (OperationLimits.prepare): execution arguments, or the errors to send. */
  prepare?(payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }): ExecutionArgs | GraphQLError[];
  /** The token's scope on the operation `prepare` returned (what HTTP checks in Apollo): the errors to send instead, if refused. */
  authorize?(principal: Principal, document: DocumentNode): GraphQLError[] | undefined;
}

/**
 * Our close codes, beside graphql-ws's own (`CloseCode`): the 44xx mirror HTTP statuses.
 * 4401: missing, unknown or expired token. 4403: the token was revoked or expired while open.
 * 4429: too many sockets from this address, or failed authentications throttled.
 * 1008 (policy violation): the client stopped reading. 1009: a frame over the size limit.
 */
export const UNAUTHORIZED = 4401;
export const TOO_MANY = 4429;
export const NOT_READING = 1008;

/** Close reasons are cut at 123 bytes by the protocol: keep them short. */
interface SocketState {
  principal?: Principal;
  /** graphql-ws's connection context: its `subscriptions` are the operations in flight. */
  context?: Context;
  /** The socket was closed for not reading: said once, whatever else it is sent meanwhile. */
  notReading?: boolean;
}

/**
 * graphql-ws on the HTTP server's port and path, bounded: frame size, sockets per address,
 * operations per socket and per token, and a send buffer that a client which stops reading
 * cannot grow without end. Authentication happens at `connection_init`; the tokens of open
 * sockets are checked again periodically and whenever `recheckTokens()` is called (after the
 * LISTEN connection was down and revocations may have been missed), and on every revocation.
 */
export function startWsServer(options: WsServerOptions): {
  /** Takes an HTTP upgrade the server routed here (once the process is ready: http/server.ts refuses earlier ones). */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  revoke(tokenId: string): void;
  recheckTokens(): Promise<void>;
  close(): Promise<void>;
} {
  const { limits, log } = options;
  // No `server`: ws would take every upgrade on the port, before the process is ready or while it stops.
  const wss = new WebSocketServer({ noServer: true, path: options.path, maxPayload: limits.maxPayloadBytes });
  const states = new WeakMap<WebSocket, SocketState>();
  // Counted by hand, not with rate-limiter-flexible: these are sockets open now, given back on
  // close, not requests per time window (its limiters only count the latter).
  const perAddress = new Map<string, number>();
  /** The open sockets of each token (the admin token of the environment under `admin`): revocation closes them, and their operations are counted against the token's limit. */
  const perToken = new Map<string, Set<WebSocket>>();
  const tokenKey = (principal: Principal) => principal.tokenId ?? 'admin';

  // Registered before graphql-ws's own listener, so a refused socket never reaches it.
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const key = addressKey(options.clientAddress(request));
    const open = (perAddress.get(key) ?? 0) + 1;
    perAddress.set(key, open);
    socket.once('close', () => {
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left > 0) perAddress.set(key, left);
      else perAddress.delete(key);
      const principal = states.get(socket)?.principal;
      if (principal) {
        const sockets = perToken.get(tokenKey(principal));
        sockets?.delete(socket);
        if (sockets?.size === 0) perToken.delete(tokenKey(principal));
      }
    });
    if (open > limits.socketsPerAddress) socket.close(TOO_MANY, `Too many sockets from this address (limit ${limits.socketsPerAddress})`);
  });

  /** Said once per socket, whatever else is sent to it meanwhile. */
  const closeNotReading = (socket: WebSocket, sign: string) => {
    const state = states.get(socket);
    if (!state || state.notReading) return;
    state.notReading = true;
    log.warn({ sign, bufferedBytes: socket.bufferedAmount, limit: limits.maxBufferedBytes, tokenId: state.principal?.tokenId }, 'closing a websocket that is not reading');
    socket.close(NOT_READING, 'Send buffer full: the client is not reading');
  };

  const refuse = (message: string, limit: number) => [new GraphQLError(message, { extensions: { code: errorCodes.SUBSCRIPTION_LIMIT.graphql, limit } })];

  const disposable = useServer<Record<string, unknown>, { state?: SocketState }>(
    {
      schema: options.schema,
      subscribe: subscribeSharingResults,
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const raw = ctx.connectionParams?.authorization;
        const outcome = await options.authenticate(typeof raw === 'string' ? raw : undefined, options.clientAddress(request));
        if (!outcome.ok) {
          if (outcome.code === 'RATE_LIMITED') socket.close(TOO_MANY, `Too many failed authentications; retry in ${outcome.retryAfterSeconds} s`);
          else socket.close(UNAUTHORIZED, 'Unauthorized');
          return false;
        }
        if (socket.readyState !== socket.OPEN) return false; // closed while we looked the token up
        states.set(socket, { principal: outcome.principal, context: ctx as unknown as Context });
        const key = tokenKey(outcome.principal);
        let sockets = perToken.get(key);
        if (!sockets) perToken.set(key, (sockets = new Set()));
        sockets.add(socket);
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        // `ctx.subscriptions` already holds this operation.
        if (Object.keys(ctx.subscriptions).length > limits.subscriptionsPerSocket) {
          return refuse(`Too many operations on this socket (limit ${limits.subscriptionsPerSocket})`, limits.subscriptionsPerSocket);
        }
        const principal = states.get(ctx.extra.socket)!.principal!;
        let total = 0;
        for (const socket of perToken.get(tokenKey(principal)) ?? []) total += Object.keys(states.get(socket)?.context?.subscriptions ?? {}).length;
        if (total > limits.subscriptionsPerToken) {
          return refuse(`Too many operations for this token (limit ${limits.subscriptionsPerToken})`, limits.subscriptionsPerToken);
        }
        const prepared = options.prepare?.(payload);
        if (prepared === undefined || Array.isArray(prepared)) return prepared;
        return options.authorize?.(principal, prepared.document) ?? prepared;
      },
      onNext: (ctx) => {
        // Each operation waits for its own send to be flushed, so the buffer grows with the
        // number of operations and the size of their results: past the limit, the client is
        // not reading. The close frame queues behind the buffer; ws cuts the socket after its
        // close timeout if it is never read.
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > limits.maxBufferedBytes) closeNotReading(socket, 'send buffer');
        return undefined;
      },
      context: (ctx) => {
        const socket = ctx.extra.socket;
        // Small results never fill the send buffer: a stalled client shows instead as a live
        // feed's values piling up behind the send graphql-ws awaits (graphql/live-iterator.ts).
        return { ...options.context(states.get(socket)!.principal!), notReading: () => closeNotReading(socket, 'live feed backlog') };
      },
    },
    wss,
  );

  // graphql-ws writes every socket 'error' to stderr with a stack trace. ws emits one only for
  // a client's protocol error (an oversized or malformed frame), after closing the socket with
  // the fitting code itself: an expected refusal, not worth more than a debug line.
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error) => log.debug({ err: error }, 'websocket closed on a protocol error'));
  });

  const closeToken = (tokenId: string, reason: string) => {
    for (const socket of perToken.get(tokenId) ?? []) socket.close(CloseCode.Forbidden, reason);
  };

  let rechecking: Promise<void> | undefined;
  const recheckTokens = (): Promise<void> => {
    // One re-check at a time; a call during one waits for it.
    rechecking ??= (async () => {
      const tokenIds = [...perToken.keys()].filter((key) => key !== 'admin');
      if (tokenIds.length === 0) return;
      const usable = await options.usableTokens(tokenIds);
      for (const tokenId of tokenIds) if (!usable.has(tokenId)) closeToken(tokenId, 'Forbidden: token revoked or expired');
    })()
      .catch((error: unknown) => log.warn({ err: error }, 'could not re-check the tokens of open websockets'))
      .finally(() => (rechecking = undefined));
    return rechecking;
  };
  const timer = setInterval(() => void recheckTokens(), limits.tokenRecheckMs);
  timer.unref();

  return {
    upgrade: (request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (ws) => {
        coalesceSends(ws, socket);
        wss.emit('connection', ws, request);
      }),
    revoke: (tokenId) => closeToken(tokenId, 'Forbidden: token revoked'),
    recheckTokens,
    async close() {
      clearInterval(timer);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GraphQLContext, Principal } from '../graphql/context.js';

export interface WsServerOptions {
  schema: GraphQLSchema;
  path: string;
  /** Resolves `connectionParams.authorization` to a principal; `undefined` refuses the socket. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
  context(principal: Principal): GraphQLContext;
  /** The operation limits HTTP applies (OperationLimits.prepare): execution arguments, or the errors to send. */
  prepare?(payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }): ExecutionArgs | GraphQLError[];
}

/** Closed when the token in `connectionParams.authorization` is missing or unknown. */
export const UNAUTHORIZED = 4401;

interface SocketState {
  principal?: Principal;
}

/**
 * graphql-ws on the HTTP server's port and path. Authentication happens once, at
 * `connection_init`; a socket whose token is revoked later is closed with 4403.
 */
export function startWsServer(server: Server, options: WsServerOptions): { revoke(tokenId: string): void; close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: options.path });
  const states = new WeakMap<WebSocket, SocketState>();
  const disposable = useServer<Record<string, unknown>, { state?: SocketState }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const principal = await options.authenticate(typeof raw === 'string' ? raw : undefined);
        if (!principal) {
          ctx.extra.socket.close(UNAUTHORIZED, 'Unauthorized');
          return false;
        }
        states.set(ctx.extra.socket, { principal });
        return true;
      },
      context: (ctx) => options.context(states.get(ctx.extra.socket)!.principal!),
      onSubscribe: options.prepare && ((_ctx, _id, payload) => options.prepare!(payload)),
    },
    wss,
  );
  return {
    revoke(tokenId) {
      for (const socket of wss.clients) {
        if (states.get(socket)?.principal?.tokenId === tokenId) socket.close(CloseCode.Forbidden, 'Forbidden: token revoked');
      }
    },
    async close() {
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

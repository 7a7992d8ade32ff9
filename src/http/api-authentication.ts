import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../auth/authenticate.js';
import type { AuthOutcome, Authenticator } from '../auth/authenticator.js';
import type { ClientAddress } from './client-address.js';

/**
 * How each transport hands an API token to the one authenticator: over HTTP the
 * `Authorization: Bearer <token>` header, from the client's address; over websockets
 * `connectionParams.authorization`, with or without `Bearer `.
 */
export function apiAuthentication(authenticator: Pick<Authenticator, 'authenticate'>, clientAddress: ClientAddress): {
  http(request: IncomingMessage): Promise<AuthOutcome>;
  socket(authorization: string | undefined, remoteAddress: string | undefined): Promise<AuthOutcome>;
} {
  return {
    http: (request) => authenticator.authenticate(bearerToken(request.headers.authorization), clientAddress(request)),
    socket: (authorization, remoteAddress) => authenticator.authenticate(bearerToken(authorization) ?? authorization, remoteAddress),
  };
}

import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import { canonicalAddress as canonical } from '../auth/remote-address.js';

/** The address a request came from: what per-address limits, throttles and logs key on. */
export type ClientAddress = (request: IncomingMessage) => string;

/**
 * The peer's address, or, when the peer is one of the operator's reverse proxies, the address
 * that proxy saw (the right-most `X-Forwarded-For` entry not itself a trusted proxy). Nothing
 * trusted by default: a client could otherwise name any address it likes and slip past every
 * per-address limit. Parsing is proxy-addr's (Express's), not ours.
 */
export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddress {
  if (trustedProxies.length === 0) return (request) => canonical(request.socket.remoteAddress ?? '');
  const trust = proxyaddr.compile([...trustedProxies]);
  return (request) => canonical(proxyaddr(request as Parameters<typeof proxyaddr>[0], trust));
}

/** Whether the request's peer is one of the operator's reverse proxies (whose headers, such as `X-Request-Id`, may be believed). */
export function trustedPeerResolver(trustedProxies: readonly string[]): (request: IncomingMessage) => boolean {
  if (trustedProxies.length === 0) return () => false;
  const trust = proxyaddr.compile([...trustedProxies]);
  return (request) => {
    const peer = request.socket.remoteAddress;
    return peer !== undefined && trust(peer, 0);
  };
}

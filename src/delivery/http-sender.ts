import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { Agent, ProxyAgent, request } from 'undici';
import { maskUrl } from '../crypto/redact.js';
import type { AllowedProxies } from './allowed-proxies.js';
import { KeyedLimit } from './keyed-limit.js';
import { bypassesProxy } from './no-proxy.js';
import { ReceiverDns } from './receiver-dns.js';
import { DEFAULT_RESOLVE_TIMEOUT_MS, firstBlocked, isLocalhost, resolveWithin, SsrfBlockedError, type ResolvedAddress, type Resolver } from './ssrf-guard.js';
import type { AttemptErrorClass } from '../db/entities/attempt.js';

export const RESPONSE_EXCERPT_BYTES = 4096;

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** The relay's own egress proxy; otherwise HOOKYARD_EGRESS_PROXY, if set. */
  proxyUrl?: string | null;
  /** Aborts the request (graceful shutdown); reported as TIMEOUT. */
  signal?: AbortSignal;
  /** Caps this relay's concurrent DNS queries. */
  relayId?: string;
  /** Called once the request may reach the receiver (connecting to it); an abort before then sent nothing. */
  onSending?: () => void;
}

/** Expected outcomes are values, not exceptions: a receiver failing is normal business. */
export type SendOutcome =
  | { ok: true; status: number; bodyExcerpt: string; durationMs: number }
  | {
      ok: false;
      errorClass: AttemptErrorClass;
      message: string;
      status: number | null;
      bodyExcerpt: string | null;
      retryAfter: string | undefined;
      durationMs: number;
      /** For the log only (an SSRF refusal's resolved address); `message` is what callers see. */
      detail?: string;
      /** The receiver refused for good (an SMTP 5xx): DEAD at once, not retried. */
      permanent?: boolean;
    };

export interface HttpSenderOptions {
  /** HOOKYARD_ALLOW_PRIVATE_TARGETS: the SSRF guard is off (targets and relay proxies). */
  allowPrivate?: boolean;
  /** DNS resolution, injectable so tests never depend on real DNS; the hosts file and c-ares otherwise. */
  resolve?: Resolver;
  /** c-ares servers (`ip` or `ip:port`) instead of the system's; for tests. */
  dnsServers?: string[];
  /** One DNS query's timeout (default 5 s). */
  dnsTimeoutMs?: number;
  /** HOOKYARD_EGRESS_PROXY and NO_PROXY. */
  egressProxy?: string;
  noProxy?: string;
  /** HOOKYARD_EGRESS_PROXY_SENDS_NAMES: ask the operator's proxy for the name, not the checked address. */
  egressProxySendsNames?: boolean;
  /** HOOKYARD_ALLOWED_PRIVATE_PROXIES, parsed. */
  allowedPrivateProxies?: AllowedProxies;
  connectionsPerOrigin?: number;
}

/**
 * How long an idle connection stays pooled, whatever a receiver's `Keep-Alive: timeout=` asks:
 * a receiver that holds its sockets open after complete answers gets them closed by us soon.
 */
const KEEP_ALIVE_MS = 4_000;
/** One relay's DNS queries in flight at once; more wait (within their attempt's timeout). */
const LOOKUPS_PER_RELAY = 4;
/** Proxy agents kept (each holds its keep-alive connections); the least recently used is closed. */
const PROXY_AGENTS = 100;

/** How one request leaves: straight to the receiver, or through a proxy (a relay's own, or the operator's). */
type Route = { via: 'direct' } | { via: 'relay-proxy' | 'egress-proxy'; proxy: URL };

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps undici and socket errors onto AttemptErrorClass. */
export function classifyError(error: unknown): AttemptErrorClass {
  const err = error as { code?: string; name?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'TIMEOUT';
  if (code === 'SSRF_BLOCKED') return 'SSRF_BLOCKED';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 'DNS';
  if (code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'HPE_HEADER_OVERFLOW') return 'RESPONSE_TOO_LARGE';
  if (TLS_CODES.test(code)) return 'TLS';
  // undici refused to build the request (a header it cannot write): nothing left.
  if (code === 'UND_ERR_INVALID_ARG') return 'LOCAL';
  return 'CONNECTION_RESET';
}

/**
 * Where a redirect pointed, masked like a relay URL: an http → https redirect repeats the
 * relay's path, and with it a credential the path may carry (Slack, Teams).
 */
function redirectTarget(from: URL, location: string | string[] | undefined): string {
  const target = Array.isArray(location) ? location[0] : location;
  if (!target) return '?';
  try {
    return maskUrl(new URL(target, from).toString());
  } catch {
    return '?';
  }
}

/**
 * The first 4 KiB of a response body, and never more read: past them the body is dropped with
 * its connection (a large body never fails an attempt, it only costs the connection). A body
 * still arriving when the attempt's deadline passes (a receiver trickling it) is cut there and
 * keeps what came: the status was read, so the attempt stands. Read with listeners, not `for
 * await`: the async iterator built a promise, an abort listener and end-of-stream watchers
 * for every response (issue 13: ≈ 1.9 KB of a delivery's 23 KB of allocations).
 */
export function readExcerpt(body: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let read = false;
    const done = () => {
      if (read) return;
      read = true;
      body.off('data', take).off('end', done).off('close', done).off('error', done);
      // Anything the receiver or the deadline does to the body from here on is of no interest.
      body.on('error', () => {});
      body.destroy();
      resolve(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'));
    };
    const take = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_EXCERPT_BYTES) done();
    };
    // Cut by the deadline or the receiver: what arrived is the excerpt. A body already
    // destroyed would never emit again: nothing to read.
    if (body.destroyed) done();
    else body.on('data', take).once('end', done).once('close', done).once('error', done);
  });
}

/**
 * A keep-alive HTTP client that never follows redirects and never throws for a failed try.
 *
 * Every name is resolved once, here, and checked by the SSRF guard; the request then goes to
 * the checked address, so nothing resolves the name a second time (DNS rebinding): directly
 * to that address, or through a proxy asked to `CONNECT` to that address. The Host header and
 * TLS SNI keep the name (undici takes the SNI from the Host header). Proxies always tunnel,
 * `http:` targets too: a forwarded absolute-form request would have the proxy resolve the name.
 * A relay's own proxy is resolved and checked like a target (private proxies only when the
 * operator lists them), and is connected to at its checked address. The operator's
 * HOOKYARD_EGRESS_PROXY is trusted configuration: not checked, and asked for the target's name
 * instead of its address when HOOKYARD_EGRESS_PROXY_SENDS_NAMES is set.
 */
export class HttpSender {
  private readonly agent: Agent;
  private readonly proxies: LRUCache<string, ProxyAgent>;
  private readonly lookups = new KeyedLimit(LOOKUPS_PER_RELAY);
  private readonly dnsTimeoutMs: number;
  /** The resolver deliveries use; the API's save-time check uses it too. */
  readonly resolve: Resolver;

  constructor(private readonly options: HttpSenderOptions = {}) {
    this.dnsTimeoutMs = options.dnsTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
    this.resolve = options.resolve ?? new ReceiverDns({ timeoutMs: this.dnsTimeoutMs, servers: options.dnsServers }).resolve;
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      maxHeaderSize: 16 * 1024,
    });
    this.proxies = new LRUCache<string, ProxyAgent>({
      max: PROXY_AGENTS,
      // Closing lets requests already on the agent finish; new ones get a new agent.
      dispose: (agent) => void agent.close().catch(() => {}),
    });
  }

  private route(url: URL, proxyUrl: string | null | undefined): Route {
    if (bypassesProxy(url, this.options.noProxy)) return { via: 'direct' };
    if (proxyUrl) return { via: 'relay-proxy', proxy: new URL(proxyUrl) };
    if (this.options.egressProxy) return { via: 'egress-proxy', proxy: new URL(this.options.egressProxy) };
    return { via: 'direct' };
  }

  /** Resolves within the attempt's signal and the DNS timeout, at most LOOKUPS_PER_RELAY at once per relay. */
  private lookup(host: string, relayId: string | undefined, signal: AbortSignal): Promise<ResolvedAddress[]> {
    const query = () => resolveWithin(host, this.resolve, this.dnsTimeoutMs);
    return relayId ? this.lookups.run(relayId, signal, query) : query();
  }

  /**
   * The address to ask for, checked; `undefined` to ask for the URL's own host (an IP literal
   * already checked, or a name the operator's proxy is to resolve).
   */
  private async targetAddress(url: URL, route: Route, relayId: string | undefined, signal: AbortSignal): Promise<string | undefined> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const guard = !this.options.allowPrivate;
    if (guard && isLocalhost(host)) throw new SsrfBlockedError(host, host, 'loopback');
    if (isIP(host) !== 0) {
      const blocked = guard ? firstBlocked(host, [{ address: host, family: isIP(host) === 6 ? 6 : 4 }]) : null;
      if (blocked) throw blocked;
      return undefined;
    }
    if (route.via === 'egress-proxy' && this.options.egressProxySendsNames) {
      // The proxy resolves and enforces its own rules; a name we can see is private is still refused here.
      if (!guard) return undefined;
      const addresses = await this.lookup(host, relayId, signal).catch(() => []);
      const blocked = firstBlocked(host, addresses);
      if (blocked) throw blocked;
      return undefined;
    }
    const addresses = await this.lookup(host, relayId, signal);
    const blocked = guard ? firstBlocked(host, addresses) : null;
    if (blocked) throw blocked;
    return addresses[0]!.address;
  }

  /** The proxy's agent; a relay's proxy is checked and connected to at its checked address. */
  private async proxyAgent(route: Route & { proxy: URL }, relayId: string | undefined, signal: AbortSignal): Promise<ProxyAgent> {
    const proxy = new URL(route.proxy);
    let servername: string | undefined;
    if (route.via === 'relay-proxy') {
      const host = proxy.hostname.replace(/^\[|\]$/g, '');
      const port = proxy.port || (proxy.protocol === 'https:' ? '443' : '80');
      const listed = this.options.allowedPrivateProxies;
      const exempt = (address?: string) => listed?.allows(host, port, address) ?? false;
      const guard = !this.options.allowPrivate && !exempt();
      if (guard && isLocalhost(host)) throw new SsrfBlockedError(host, host, 'loopback', 'proxy');
      if (isIP(host) === 0) {
        const addresses = await this.lookup(host, relayId, signal);
        const blocked = guard ? firstBlocked(host, addresses, exempt, 'proxy') : null;
        if (blocked) throw blocked;
        const address = addresses[0]!;
        proxy.hostname = address.family === 6 ? `[${address.address}]` : address.address;
        if (proxy.protocol === 'https:') servername = host;
      } else {
        const blocked = guard ? firstBlocked(host, [{ address: host, family: isIP(host) === 6 ? 6 : 4 }], exempt, 'proxy') : null;
        if (blocked) throw blocked;
      }
    }
    const key = `${proxy.href} ${servername ?? ''}`;
    let agent = this.proxies.get(key);
    if (!agent) {
      agent = new ProxyAgent({
        uri: proxy.href,
        proxyTunnel: true,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MS,
        maxHeaderSize: 16 * 1024,
        ...(servername ? { proxyTls: { servername } } : {}),
      });
      this.proxies.set(key, agent);
    }
    return agent;
  }

  async send(outbound: OutboundRequest): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(outbound.url);
    // One deadline for the whole attempt, DNS included.
    const deadline = attemptDeadline(outbound.timeoutMs, outbound.signal);
    const signal = deadline.signal;
    const route = this.route(url, outbound.proxyUrl);
    let sending = false;
    try {
      const address = await abortable(this.targetAddress(url, route, outbound.relayId, signal), signal);
      const dispatcher = route.via === 'direct' ? this.agent : await abortable(this.proxyAgent(route, outbound.relayId, signal), signal);
      const target = new URL(url);
      if (address !== undefined) target.hostname = isIP(address) === 6 ? `[${address}]` : address;
      sending = true;
      outbound.onSending?.();
      const response = await request(target, {
        method: outbound.method as 'POST',
        // The name the receiver serves (virtual hosts, TLS SNI and certificate check), whatever address carries it.
        headers: { ...outbound.headers, host: url.host },
        body: outbound.body,
        dispatcher,
        signal,
        headersTimeout: outbound.timeoutMs,
        bodyTimeout: outbound.timeoutMs,
      });
      const bodyExcerpt = await readExcerpt(response.body);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { ok: true, status, bodyExcerpt, durationMs: elapsed() };
      const retryAfter = response.headers['retry-after'];
      return {
        ok: false,
        errorClass: status >= 300 && status < 400 ? 'REDIRECT' : 'HTTP_STATUS',
        message: status >= 300 && status < 400 ? `redirect to ${redirectTarget(url, response.headers.location)} not followed` : `receiver answered ${status}`,
        status,
        bodyExcerpt,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: elapsed(),
      };
    } catch (error) {
      let errorClass = classifyError(error);
      // An unexplained failure before any connection was tried is ours, not the receiver's.
      if (!sending && errorClass === 'CONNECTION_RESET') errorClass = 'LOCAL';
      const proxied = route.via !== 'direct';
      // Through a proxy, a connection that cannot be made is the proxy's failure to report.
      const unresolved = errorClass === 'DNS' && (error as { hostname?: string }).hostname !== url.hostname.replace(/^\[|\]$/g, '');
      if (proxied && errorClass !== 'SSRF_BLOCKED' && (errorClass === 'CONNECTION_REFUSED' || errorClass === 'CONNECTION_RESET' || unresolved || /proxy/i.test((error as Error).message))) errorClass = 'PROXY';
      const blocked = error instanceof SsrfBlockedError ? error : (error as { cause?: unknown }).cause instanceof SsrfBlockedError ? (error as { cause: SsrfBlockedError }).cause : undefined;
      const message = errorClass === 'TIMEOUT' ? `no answer within ${outbound.timeoutMs} ms` : (blocked?.message ?? ((error as Error).message || String(error)));
      return { ok: false, errorClass, message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: elapsed(), detail: blocked?.detail };
    } finally {
      deadline.clear();
    }
  }

  async close(): Promise<void> {
    const proxies = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all([this.agent.close(), ...proxies.map((p) => p.close().catch(() => {}))]);
  }
}

/**
 * An attempt's deadline, also aborted by the caller's signal (shutdown), and released with the
 * attempt. `AbortSignal.timeout` keeps its timer and signal alive until the timeout passes, and
 * `AbortSignal.any` ties the pair to the caller's signal: at 1,000 deliveries/s with 15 s
 * timeouts a worker held 15,000 of them after their answers (issue 13, memory).
 */
export function attemptDeadline(timeoutMs: number, outer: AbortSignal | undefined): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  timer.unref();
  const abort = () => controller.abort(outer!.reason);
  if (outer?.aborted) abort();
  else outer?.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    },
  };
}

/** Stops waiting when the attempt's deadline passes (a DNS query keeps running, on the event loop, until its own timeout). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

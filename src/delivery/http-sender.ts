import type { LookupFunction } from 'node:net';
import { Agent, ProxyAgent, request } from 'undici';
import { maskUrl } from '../crypto/redact.js';
import { bypassesProxy } from './no-proxy.js';
import { guardedLookup, SsrfBlockedError, type Resolver } from './ssrf-guard.js';
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
    };

export interface HttpSenderOptions {
  /** HOOKYARD_ALLOW_PRIVATE_TARGETS: the SSRF guard is off. */
  allowPrivate?: boolean;
  /** DNS resolution, injectable so tests never depend on real DNS. */
  resolve?: Resolver;
  /** HOOKYARD_EGRESS_PROXY and NO_PROXY. */
  egressProxy?: string;
  noProxy?: string;
  connectionsPerOrigin?: number;
}

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

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_EXCERPT_BYTES) {
      // The rest is dropped: a large body never fails an attempt, it only costs the connection.
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
}

/**
 * A keep-alive HTTP client that never follows redirects and never throws for a failed try.
 * Every connection goes through the SSRF guard: the host is checked before the request (which
 * covers IP literals, which never reach a lookup, and hosts handed to a proxy) and again by the
 * connect-time lookup, which catches a DNS answer that changed since (rebinding).
 */
export class HttpSender {
  private readonly agent: Agent;
  private readonly proxies = new Map<string, ProxyAgent>();
  private readonly lookup: LookupFunction;

  constructor(private readonly options: HttpSenderOptions = {}) {
    this.lookup = guardedLookup({ allowPrivate: options.allowPrivate ?? false, resolve: options.resolve });
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: 30_000,
      maxHeaderSize: 16 * 1024,
      connect: { lookup: this.lookup },
    });
  }

  private checkHost(hostname: string): Promise<void> {
    if (this.options.allowPrivate) return Promise.resolve();
    const host = hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => this.lookup(host, { all: true }, (error) => (error ? reject(error) : resolve())));
  }

  private dispatcherFor(url: URL, proxyUrl: string | null | undefined): { dispatcher: Agent | ProxyAgent; proxied: boolean } {
    const proxy = proxyUrl ?? this.options.egressProxy;
    if (!proxy || bypassesProxy(url, this.options.noProxy)) return { dispatcher: this.agent, proxied: false };
    let agent = this.proxies.get(proxy);
    if (!agent) {
      agent = new ProxyAgent({ uri: proxy, keepAliveTimeout: 30_000, maxHeaderSize: 16 * 1024 });
      this.proxies.set(proxy, agent);
    }
    return { dispatcher: agent, proxied: true };
  }

  async send(outbound: OutboundRequest): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(outbound.url);
    const { dispatcher, proxied } = this.dispatcherFor(url, outbound.proxyUrl);
    try {
      await this.checkHost(url.hostname);
      const response = await request(url, {
        method: outbound.method as 'POST',
        headers: outbound.headers,
        body: outbound.body,
        dispatcher,
        signal: outbound.signal ? AbortSignal.any([AbortSignal.timeout(outbound.timeoutMs), outbound.signal]) : AbortSignal.timeout(outbound.timeoutMs),
        headersTimeout: outbound.timeoutMs,
        bodyTimeout: outbound.timeoutMs,
      });
      const bodyExcerpt = await readExcerpt(response.body).catch(() => '');
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
      // Through a proxy, a connection that cannot be made is the proxy's failure to report.
      if (proxied && (errorClass === 'CONNECTION_REFUSED' || errorClass === 'CONNECTION_RESET' || errorClass === 'DNS' || /proxy/i.test((error as Error).message))) errorClass = 'PROXY';
      const blocked = error instanceof SsrfBlockedError ? error : (error as { cause?: unknown }).cause instanceof SsrfBlockedError ? (error as { cause: SsrfBlockedError }).cause : undefined;
      const message = errorClass === 'TIMEOUT' ? `no answer within ${outbound.timeoutMs} ms` : (blocked?.message ?? ((error as Error).message || String(error)));
      return { ok: false, errorClass, message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: elapsed(), detail: blocked?.detail };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), ...[...this.proxies.values()].map((p) => p.close())]);
  }
}

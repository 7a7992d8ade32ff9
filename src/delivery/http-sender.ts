import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { AttemptErrorClass } from '../db/entities/attempt.js';

export const RESPONSE_EXCERPT_BYTES = 4096;

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
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
    };

export interface HttpSenderOptions {
  /** DNS resolution, injectable so tests (and the SSRF guard) never depend on real DNS. */
  lookup?: LookupFunction;
  connectionsPerOrigin?: number;
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps undici and socket errors onto AttemptErrorClass. */
export function classifyError(error: unknown): AttemptErrorClass {
  const err = error as { code?: string; name?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'TIMEOUT';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 'DNS';
  if (code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'HPE_HEADER_OVERFLOW') return 'RESPONSE_TOO_LARGE';
  if (TLS_CODES.test(code)) return 'TLS';
  return 'CONNECTION_RESET';
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

/** A keep-alive HTTP client that never follows redirects and never throws for a failed try. */
export class HttpSender {
  private readonly agent: Agent;

  constructor(options: HttpSenderOptions = {}) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: 30_000,
      maxHeaderSize: 16 * 1024,
      ...(options.lookup ? { connect: { lookup: options.lookup } } : {}),
    });
  }

  async send(outbound: OutboundRequest): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(outbound.url, {
        method: outbound.method as 'POST',
        headers: outbound.headers,
        body: outbound.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(outbound.timeoutMs),
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
        message: status >= 300 && status < 400 ? `redirect to ${String(response.headers.location ?? '?')} not followed` : `receiver answered ${status}`,
        status,
        bodyExcerpt,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: elapsed(),
      };
    } catch (error) {
      const errorClass = classifyError(error);
      const message = errorClass === 'TIMEOUT' ? `no answer within ${outbound.timeoutMs} ms` : ((error as Error).message || String(error));
      return { ok: false, errorClass, message, status: null, bodyExcerpt: null, retryAfter: undefined, durationMs: elapsed() };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

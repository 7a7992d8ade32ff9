import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/**
 * One ingest request's correlation id and, when tracing is on, its spans: `ingest` (the whole
 * request), with the children `verify` (the signature check) and `commit` (the request's wait
 * for the group commit that stores it, queue included). The span's context is stored with the
 * events as a `traceparent`, so every delivery attempt joins this trace (attempt-span.ts).
 */
export interface IngestTrace {
  /** Stored with the events, on every log line of their attempts, answered as `X-Request-Id`. */
  readonly correlationId: string;
  /** The ingest span's context, stored with the events; null when tracing is off. */
  readonly traceparent: string | null;
  attributes(attributes: Attributes): void;
  verify<T>(check: () => T): T;
  commit<T>(wait: () => Promise<T>): Promise<T>;
  /** Ends the request's span with its answer; `outcome` is the refusal's code, if any. */
  end(statusCode: number, outcome?: string): void;
}

export interface IngestTraceInput {
  /** An id the request brought that may serve as its correlation id (ingest/correlation-id.ts decides). */
  requestId: string | undefined;
  /** The request's own `traceparent` header: at most a link, never a parent. */
  traceparent: string | string[] | undefined;
  method: string | undefined;
}

/** 32 lowercase hex, the shape of a trace id, so both kinds of ids look alike in logs. */
export function newCorrelationId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Tracing off: the correlation id alone, and nothing else to pay for. */
class Untraced implements IngestTrace {
  readonly traceparent = null;
  constructor(readonly correlationId: string) {}
  attributes(): void {}
  verify<T>(check: () => T): T {
    return check();
  }
  commit<T>(wait: () => Promise<T>): Promise<T> {
    return wait();
  }
  end(): void {}
}

class Traced implements IngestTrace {
  readonly correlationId: string;
  readonly traceparent: string;
  private readonly context: Context;

  constructor(private readonly tracer: Tracer, private readonly span: Span, requestId: string | undefined) {
    const spanContext = span.spanContext();
    // The trace id is the correlation id, so a log line leads to its trace, unless an operator's
    // proxy named the request already.
    this.correlationId = requestId ?? spanContext.traceId;
    this.traceparent = formatTraceparent(spanContext);
    this.context = trace.setSpan(ROOT_CONTEXT, span);
    span.setAttribute('hookyard.correlation_id', this.correlationId);
  }

  attributes(attributes: Attributes): void {
    this.span.setAttributes(attributes);
  }

  verify<T>(check: () => T): T {
    const child = this.tracer.startSpan('verify', {}, this.context);
    try {
      return check();
    } catch (error) {
      child.setStatus({ code: SpanStatusCode.ERROR, message: codeOf(error) });
      throw error;
    } finally {
      child.end();
    }
  }

  async commit<T>(wait: () => Promise<T>): Promise<T> {
    const child = this.tracer.startSpan('commit', {}, this.context);
    try {
      return await wait();
    } catch (error) {
      child.setStatus({ code: SpanStatusCode.ERROR, message: codeOf(error) });
      throw error;
    } finally {
      child.end();
    }
  }

  end(statusCode: number, outcome?: string): void {
    this.span.setAttribute('http.response.status_code', statusCode);
    if (outcome) this.span.setAttribute('hookyard.ingest.outcome', outcome);
    // A refusal (4xx) is the sender's doing, not a fault of this server (OpenTelemetry's rule for server spans).
    if (statusCode >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.span.end();
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/**
 * Starts an ingest request's trace. A provider's `traceparent` is hostile input: a parent
 * taken from it would let any sender choose our trace ids (joining its requests to others'
 * traces) and our sampling decision (its flag). So the ingest span is always a new root, and
 * a provider context that is strictly valid (traceparent.ts) is kept only as a span link.
 */
export function startIngestTrace(tracer: Tracer | undefined, input: IngestTraceInput): IngestTrace {
  if (!tracer) return new Untraced(input.requestId ?? newCorrelationId());
  const provider = typeof input.traceparent === 'string' ? parseTraceparent(input.traceparent) : undefined;
  const span = tracer.startSpan('ingest', {
    kind: SpanKind.SERVER,
    root: true,
    attributes: { 'http.request.method': input.method === 'POST' ? 'POST' : '_OTHER' },
    links: provider ? [{ context: provider, attributes: { 'hookyard.link': 'provider' } }] : [],
  }, ROOT_CONTEXT);
  return new Traced(tracer, span, input.requestId);
}

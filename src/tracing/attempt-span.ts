import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

export interface AttemptSpanInput {
  deliveryId: string;
  eventId: string;
  relayId: string;
  attempt: number;
  /** The relay URL: only its host is recorded (path and query may carry a receiver's secrets). */
  url: string;
  /** The event's stored ingest context: the parent, so the attempt joins the webhook's trace. */
  traceparent: string | null;
  correlationId: string | null;
}

export interface AttemptSpanEnd {
  ok: boolean;
  status: number | null;
  errorClass?: string;
  /** What the attempt led to: succeeded, failed (retrying), dead, gone, interrupted, test, released. */
  result: string;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * One delivery attempt's span (kind CLIENT), a child of the ingest span stored with the event:
 * a retry hours later, a replay and each receiver's attempt all land in the webhook's one trace.
 * An event stored while tracing was off (or published) has no stored context: its attempts
 * start traces of their own. The stored value came from our own ingest, but it is parsed as
 * strictly as a header from the network: a row is only as trustworthy as what wrote it.
 */
export class AttemptSpan {
  private readonly span: Span;
  /** The W3C `traceparent` the receiver gets: this attempt's span. */
  readonly traceparent: string;

  constructor(tracer: Tracer, input: AttemptSpanInput) {
    const parent = parseTraceparent(input.traceparent);
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const host = hostOf(input.url);
    this.span = tracer.startSpan('delivery attempt', {
      kind: SpanKind.CLIENT,
      root: !parent,
      attributes: {
        'hookyard.delivery.id': input.deliveryId,
        'hookyard.event.id': input.eventId,
        'hookyard.relay.id': input.relayId,
        'hookyard.attempt': input.attempt,
        ...(input.correlationId ? { 'hookyard.correlation_id': input.correlationId } : {}),
        ...(host ? { 'server.address': host } : {}),
      },
    }, context);
    this.traceparent = formatTraceparent(this.span.spanContext());
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  end(outcome: AttemptSpanEnd): void {
    if (outcome.status !== null) this.span.setAttribute('http.response.status_code', outcome.status);
    if (outcome.errorClass) this.span.setAttribute('error.type', outcome.errorClass);
    this.span.setAttribute('hookyard.attempt.result', outcome.result);
    if (!outcome.ok) this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorClass });
    this.span.end();
  }
}

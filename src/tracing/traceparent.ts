import { TraceFlags, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context `traceparent`, version 00 only, exactly as the spec writes it: lowercase
 * hex, fixed lengths, no all-zero ids, no trailing data. Anything else is not a trace context
 * (a header from the network is hostile input: it never becomes a parent, see ingest-trace.ts).
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The span context a `traceparent` names, or undefined for anything not strictly one (length checked first). */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-0${context.traceFlags & TraceFlags.SAMPLED}`;
}

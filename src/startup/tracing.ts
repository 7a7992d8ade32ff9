import { diag, DiagLogLevel, trace, type Tracer } from '@opentelemetry/api';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';

export interface Tracing {
  tracer: Tracer;
  /** Exports the spans still buffered, then stops the SDK. */
  shutdown(): Promise<void>;
}

/** An endpoint for the log: a `user:password@` in it is a credential. */
function withoutCredentials(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Tracing is on when an OTLP endpoint is set (either variable) and the SDK is not disabled. */
export function tracingWanted(config: Pick<Config, 'otlpEndpoint' | 'otlpTracesEndpoint' | 'otelSdkDisabled'>): boolean {
  return !config.otelSdkDisabled && (config.otlpEndpoint !== undefined || config.otlpTracesEndpoint !== undefined);
}

/**
 * Starts the OpenTelemetry Node SDK for traces, or nothing: with no endpoint the SDK is never
 * even loaded (it imports every exporter), and the ingest and delivery paths see no tracer at
 * all rather than a no-op one. The SDK reads the standard `OTEL_*` variables itself (endpoint,
 * protocol, headers, sampler, batch sizes); config.ts only checks them. Metrics stay with
 * Prometheus (`/metrics`) and logs with pino, so the SDK's metric and log pipelines are off. No
 * instrumentation is registered: Hookyard makes its own spans where a webhook's story is told.
 */
export async function startTracing(config: Config, log: Logger): Promise<Tracing | undefined> {
  if (!tracingWanted(config)) return undefined;
  const { startNodeSdk } = await import('@opentelemetry/sdk-node');
  const sdk = startNodeSdk({
    resourceAttributes: { 'service.name': config.otelServiceName, 'service.version': VERSION },
    metricReaders: [],
    logRecordProcessors: [],
    // Hookyard propagates by hand (the stored traceparent); no global propagator reads requests.
    propagators: [],
  });
  // The SDK's own complaints (a collector that refuses spans) as our log lines, not console text.
  const otel = log.child({ component: 'opentelemetry' });
  diag.setLogger({
    error: (message, ...args) => otel.error({ args }, message),
    warn: (message, ...args) => otel.warn({ args }, message),
    info: (message) => otel.debug(message),
    debug: (message) => otel.trace(message),
    verbose: (message) => otel.trace(message),
  }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  log.info({ endpoint: withoutCredentials(config.otlpTracesEndpoint ?? config.otlpEndpoint!), protocol: config.otlpProtocol, serviceName: config.otelServiceName }, 'tracing on: spans exported over OTLP');
  return { tracer: trace.getTracer('hookyard', VERSION), shutdown: () => sdk.shutdown() };
}

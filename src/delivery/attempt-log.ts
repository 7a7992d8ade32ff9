import type { Logger } from '../log.js';
import type { ClaimedRow } from './build-request.js';
import type { TransitionItem } from './transitions.js';

/**
 * The log of one delivery attempt: a pino child whose every line names the delivery, its event,
 * relay, attempt number and the ingest request's correlation id (and the trace id when tracing
 * is on), so one grep for the id an ingest answered (`X-Request-Id`) finds every attempt of every
 * receiver. The child is made on the first line only: most attempts log nothing at `info`, and
 * the hot loop should not pay for bindings nobody reads.
 */
export class AttemptLog {
  private child: Logger | undefined;

  constructor(
    private readonly log: Logger,
    private readonly row: ClaimedRow,
    private readonly deliveryId: string,
    private readonly attempt: number,
    private readonly traceId?: string,
  ) {}

  get lines(): Logger {
    this.child ??= this.log.child({
      deliveryId: this.deliveryId, eventId: this.row.event_id, relayId: this.row.relay_id, attempt: this.attempt,
      correlationId: this.row.correlation_id ?? undefined, traceId: this.traceId,
    });
    return this.child;
  }

  /** One `debug` line per attempt with its result (off at the default level, and then free). */
  recorded(item: Pick<TransitionItem, 'attempt' | 'next' | 'result'>): void {
    if (!this.log.isLevelEnabled('debug')) return;
    const { outcome } = item.attempt;
    this.lines.debug({
      result: item.result, status: item.next.status, responseStatus: outcome.status, durationMs: outcome.durationMs,
      ...(outcome.ok ? {} : { errorClass: outcome.errorClass }),
    }, 'delivery attempt');
  }
}

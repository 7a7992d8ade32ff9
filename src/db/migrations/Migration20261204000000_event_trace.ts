import { Migration } from '@mikro-orm/migrations';

/**
 * What joins an event to its ingest request in logs and traces: the request's correlation id
 * (on every log line of the event's attempts) and the ingest span's W3C `traceparent` (the
 * parent of every attempt's span, so one trace runs from the provider to each receiver). Both
 * nullable: events stored before, published ones, and, for the trace, any stored while tracing
 * was off. Adding nullable columns without a default rewrites nothing.
 */
export class Migration20261204000000_event_trace extends Migration {
  override name = 'Migration20261204000000_event_trace';

  override up(): void | Promise<void> {
    this.addSql(`alter table "event" add column "correlation_id" text null, add column "traceparent" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event" drop column "correlation_id", drop column "traceparent";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * Batched delivery (delivery/batching/). A relay with `batch_max_events` set sends its
 * deliveries as JSON arrays, one request per batch; `batch_max_bytes` and `batch_max_wait_ms`
 * bound each batch's body and how long its first event waits for company. A delivery records
 * the batch it was last sent in (its retries go as that batch, under the same `webhook-id`),
 * and `alone` marks one an operator sent again (`retryDelivery`, `replayEvent`): it goes by
 * itself, under its event id. Nullable columns and a constant default rewrite nothing.
 */
export class Migration20261206500000_batching extends Migration {
  override name = 'Migration20261206500000_batching';

  override up(): void | Promise<void> {
    this.addSql(`alter table "relay" add column "batch_max_events" int null, add column "batch_max_bytes" int null, add column "batch_max_wait_ms" int null;`);
    this.addSql(`alter table "delivery" add column "batch_id" uuid null, add column "alone" boolean not null default false;`);
    // A failed batch's retry finds its deliveries by batch; partial, so deliveries never sent in a batch take no entry.
    this.addSql(`create index "delivery_batch_id_index" on "delivery" ("batch_id") where "batch_id" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "delivery_batch_id_index";`);
    this.addSql(`alter table "delivery" drop column "batch_id", drop column "alone";`);
    this.addSql(`alter table "relay" drop column "batch_max_events", drop column "batch_max_bytes", drop column "batch_max_wait_ms";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * Fewer index entries per ingest and per attempt. A delivery row is updated twice per attempt
 * (claim, outcome), both times changing `status` and `updated_at`, so no update is HOT and every
 * index of `delivery` takes a new entry each time; the insert pays one per index as well.
 *
 * - (status, next_attempt_at): no query reads it; pg-boss holds the schedule.
 * - partial (relay_id, status) for waiting statuses: relay disable/enable find the same rows
 *   through (relay_id, status, created_at, id), as fast.
 * - (status, updated_at): retention walks (created_at, id) instead (maintenance/retention.ts):
 *   a delivery last updated before the cutoff was created before it. A list filtered by status
 *   alone reads the new partial (status, created_at, id), which leaves out SUCCEEDED (the
 *   common status: the newest-first walk over (created_at, id) finds those at once): a
 *   delivery that succeeds at its first try enters it twice (PENDING, DELIVERING), never for
 *   its final write. DELIVERING stays in so that "what is in flight" is a short index walk, not a
 *   scan of the table when little is (250 ms at a million rows without it).
 * - attempt (delivery_id, started_at, id) → (delivery_id): a delivery has a handful of attempts,
 *   sorting them for a page costs nothing, and the key is 16 bytes instead of 40.
 */
export class Migration20261203050000_slim_delivery_indexes extends Migration {
  override name = 'Migration20261203050000_slim_delivery_indexes';

  override up(): void | Promise<void> {
    this.addSql(`drop index if exists "delivery_status_next_attempt_at_index";`);
    this.addSql(`drop index if exists "delivery_relay_id_status_index";`);
    this.addSql(`drop index if exists "delivery_status_updated_at_index";`);
    this.addSql(`create index "delivery_unsettled_status_created_at_id_index" on "delivery" ("status", "created_at", "id") where "status" <> 'SUCCEEDED';`);
    this.addSql(`create index "attempt_delivery_id_index" on "attempt" ("delivery_id");`);
    this.addSql(`drop index if exists "attempt_delivery_started_at_id_index";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create index "attempt_delivery_started_at_id_index" on "attempt" ("delivery_id", "started_at", "id");`);
    this.addSql(`drop index if exists "attempt_delivery_id_index";`);
    this.addSql(`drop index if exists "delivery_unsettled_status_created_at_id_index";`);
    this.addSql(`create index "delivery_status_updated_at_index" on "delivery" ("status", "updated_at");`);
    this.addSql(`create index "delivery_relay_id_status_index" on "delivery" ("relay_id", "status") where "status" in ('HELD', 'PENDING', 'RETRYING');`);
    this.addSql(`create index "delivery_status_next_attempt_at_index" on "delivery" ("status", "next_attempt_at");`);
  }
}

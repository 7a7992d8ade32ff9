import { Migration } from '@mikro-orm/migrations';

/**
 * Hostile ingest traffic: refusals are aggregated (one row per source or slug, reason, address
 * prefix and minute, with a count); a source may list the addresses allowed to post to it and
 * opt into content dedupe, for which an event keeps its body's hash.
 */
export class Migration20261130100000_rejected_count extends Migration {
  override name = 'Migration20261130100000_rejected_count';

  override up(): void | Promise<void> {
    this.addSql(`alter table "rejected_request" add column "count" int not null default 1;`);
    this.addSql(`alter table "source" add column "allowed_cidrs" jsonb null, add column "dedupe_window_seconds" int null;`);
    this.addSql(`alter table "event" add column "body_sha256" bytea null;`);
    // Only sources with dedupe on store the hash, so the index holds only their events.
    this.addSql(`create index "event_source_body_sha256_index" on "event" ("source_id", "body_sha256", "received_at") where "body_sha256" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "event_source_body_sha256_index";`);
    this.addSql(`alter table "event" drop column if exists "body_sha256";`);
    this.addSql(`alter table "source" drop column if exists "allowed_cidrs", drop column if exists "dedupe_window_seconds";`);
    this.addSql(`alter table "rejected_request" drop column if exists "count";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * Ordered delivery per key (delivery/ordering/). A relay names where an event's ordering key
 * comes from and what a DEAD head does to its key; a delivery records its key and its place
 * in the key's line (or why it went unordered); `ordering_line` holds each key's head, the one
 * delivery of the key that may be attempted, and the last place handed out. Locking a line's
 * row is what serialises everything that changes the key (ingest, outcomes, cancels, retries).
 *
 * The delivery index is partial on `ordering_key is not null` alone: unordered deliveries (every
 * delivery of a relay without `orderingKeyFrom`) never enter it, and a predicate on `status`
 * would make every status change of every delivery pay for it.
 */
export class Migration20261205000000_ordering extends Migration {
  override name = 'Migration20261205000000_ordering';

  override up(): void | Promise<void> {
    this.addSql(`alter table "relay" add column "ordering_key_from" text null, add column "ordering_on_dead" text not null default 'CONTINUE';`);
    this.addSql(`alter table "delivery" add column "ordering_key" text null, add column "ordering_position" bigint null, add column "unordered_reason" text null;`);
    this.addSql(`create table "ordering_line" (
      "relay_id" uuid not null references "relay" ("id") on delete cascade,
      "key" text not null,
      "last_position" bigint not null,
      "head_id" uuid null,
      "head_position" bigint not null default 0,
      primary key ("relay_id", "key"));`);
    // Retention keeps a line's head (a DEAD one holding its key): it asks by head.
    this.addSql(`create index "ordering_line_head_id_index" on "ordering_line" ("head_id");`);
    this.addSql(`create index "delivery_ordering_line_index" on "delivery" ("relay_id", "ordering_key", "ordering_position") where "ordering_key" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "delivery_ordering_line_index";`);
    this.addSql(`drop table "ordering_line";`);
    this.addSql(`alter table "delivery" drop column "ordering_key", drop column "ordering_position", drop column "unordered_reason";`);
    this.addSql(`alter table "relay" drop column "ordering_key_from", drop column "ordering_on_dead";`);
  }
}

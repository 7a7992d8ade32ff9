import { Migration } from '@mikro-orm/migrations';

/**
 * One row per rate-limited relay: the earliest time its next request may leave (see
 * src/delivery/relay-rates.ts). Updated on every send of such a relay, so half of each page is
 * left free for HOT updates; gone with its relay.
 */
export class Migration20261201100000_relay_rate extends Migration {
  override name = 'Migration20261201100000_relay_rate';

  override up(): void | Promise<void> {
    this.addSql(`create table "relay_rate" ("relay_id" uuid not null primary key references "relay" ("id") on delete cascade, "next_at" timestamptz not null) with (fillfactor = 50);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table "relay_rate";`);
  }
}

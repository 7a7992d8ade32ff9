import { Migration } from '@mikro-orm/migrations';

/** Relay health (auto-disable) and signing-secret rotation. */
export class Migration20261124001000_relay_health extends Migration {
  override name = 'Migration20261124001000_relay_health';

  override up(): void | Promise<void> {
    this.addSql(`alter table "relay" add column "consecutive_dead" int not null default 0, add column "failing_since" timestamptz null, add column "last_success_at" timestamptz null, add column "previous_signing_secret_sealed" text null, add column "previous_signing_secret_expires_at" timestamptz null;`);
    this.addSql(`create index "delivery_relay_id_status_index" on "delivery" ("relay_id", "status") where "status" in ('HELD', 'PENDING', 'RETRYING');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "delivery_relay_id_status_index";`);
    this.addSql(`alter table "relay" drop column "consecutive_dead", drop column "failing_since", drop column "last_success_at", drop column "previous_signing_secret_sealed", drop column "previous_signing_secret_expires_at";`);
  }
}

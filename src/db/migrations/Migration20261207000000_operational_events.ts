import { Migration } from '@mikro-orm/migrations';

/**
 * Operational events (delivery/operational-events.ts). The built-in source they come from, one
 * row at most (`builtin`, unique where true), made here so that every installation has it
 * before any worker records an outcome: no start-up race between replicas creating it (id and
 * slug written out, as routing/operations-source.ts has them: a migration never changes). Its
 * slug is outside the slug alphabet, so no user source holds it already. Two marks keep the
 * events to one per streak: `relay.failing_alerted_at` (set when `relay.failing` or
 * `relay.disabled` was sent, cleared by the success that sends `relay.recovered`) and
 * `source.rejecting_noted_at` (the last time a source's refusals were found over the threshold).
 */
export class Migration20261207000000_operational_events extends Migration {
  override name = 'Migration20261207000000_operational_events';

  override up(): void | Promise<void> {
    this.addSql(`alter table "source" add column "builtin" boolean not null default false, add column "rejecting_noted_at" timestamptz null;`);
    this.addSql(`create unique index "source_builtin_unique" on "source" ("builtin") where "builtin";`);
    this.addSql(`insert into "source" ("id", "name", "slug", "preset", "enabled", "secrets", "builtin")
      values ('00000000-0000-7000-8000-686f6f6b7961', 'Hookyard operations', '_hookyard', 'HMAC', true, '[]', true) on conflict do nothing;`);
    this.addSql(`alter table "relay" add column "failing_alerted_at" timestamptz null;`);
    // The outcome statement looks every succeeding relay up in it (relay-health.ts
    // recordRecoveriesSql): an empty index to probe while no relay is in a reported streak.
    this.addSql(`create index "relay_failing_alerted_index" on "relay" ("id") where "failing_alerted_at" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "relay_failing_alerted_index";`);
    this.addSql(`alter table "relay" drop column if exists "failing_alerted_at";`);
    this.addSql(`delete from "source" where "builtin";`);
    this.addSql(`drop index if exists "source_builtin_unique";`);
    this.addSql(`alter table "source" drop column if exists "builtin", drop column if exists "rejecting_noted_at";`);
  }
}

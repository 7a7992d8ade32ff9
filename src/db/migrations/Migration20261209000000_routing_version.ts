import { Migration } from '@mikro-orm/migrations';

/**
 * A number that moves whenever what routes an event could change: any write to
 * `event_subscription`, and a relay's `enabled`, `max_concurrency` or `ordering_key_from`
 * (the relay columns a delivery is planned from). Ingest keeps each source's candidate
 * subscriptions in memory with the number they were read at and writes a batch in one
 * statement that checks it (events/accept-in-one-statement.ts): `hookyard_routing_is` raises
 * SQLSTATE HKR01 when the number moved, which rolls the statement back, and the batch goes the
 * way that reads the subscriptions again. Subscription writes are rare (an operator's), so one
 * row bumped by each is no contention. A relay deleted takes its subscriptions with it (the
 * cascade fires their trigger); a new relay has none yet.
 */
export class Migration20261209000000_routing_version extends Migration {
  override name = 'Migration20261209000000_routing_version';

  override up(): void | Promise<void> {
    this.addSql(`create table "routing_version" ("id" int primary key check ("id" = 1), "version" bigint not null);`);
    this.addSql(`insert into "routing_version" ("id", "version") values (1, 1);`);
    this.addSql(`create function "hookyard_bump_routing_version"() returns trigger language plpgsql as $$
      begin
        update routing_version set version = version + 1 where id = 1;
        return null;
      end $$;`);
    this.addSql(`create trigger "routing_version_on_subscription" after insert or update or delete on "event_subscription"
      for each statement execute function "hookyard_bump_routing_version"();`);
    this.addSql(`create trigger "routing_version_on_relay" after update of "enabled", "max_concurrency", "ordering_key_from" on "relay"
      for each row when (old.enabled is distinct from new.enabled or old.max_concurrency is distinct from new.max_concurrency
        or old.ordering_key_from is distinct from new.ordering_key_from)
      execute function "hookyard_bump_routing_version"();`);
    this.addSql(`create function "hookyard_routing_is"(expected bigint) returns boolean language plpgsql stable as $$
      begin
        if (select version from routing_version where id = 1) is distinct from expected then
          raise exception 'the routing changed since version %', expected using errcode = 'HKR01';
        end if;
        return true;
      end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists "hookyard_routing_is"(bigint);`);
    this.addSql(`drop trigger if exists "routing_version_on_relay" on "relay";`);
    this.addSql(`drop trigger if exists "routing_version_on_subscription" on "event_subscription";`);
    this.addSql(`drop function if exists "hookyard_bump_routing_version"();`);
    this.addSql(`drop table if exists "routing_version";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * The durable record the live feeds read: every delivery status change and every new event,
 * numbered in commit order. A NOTIFY sent while an api replica's LISTEN connection is down is
 * gone, so the feeds (and clients resuming with `after`) read from here instead.
 *
 * One mechanism no writer can forget: deferred row triggers on `delivery` and `event`. They run
 * at commit, take one transaction-level advisory lock and only then draw their numbers, so the
 * numbers follow commit order: a reader that has seen number N will never later find a smaller
 * one committed (a plain sequence drawn mid-transaction would let a slow transaction commit a
 * smaller number after a reader moved past it). The lock is held from the trigger to the end of
 * the commit, which NOTIFY already serialises (every such transaction notifies), so the extra
 * serial work is only these inserts.
 */
export class Migration20261201000000_live_change_log extends Migration {
  override name = 'Migration20261201000000_live_change_log';

  override up(): void | Promise<void> {
    this.addSql(`create table "delivery_change" (
      "seq" bigint primary key, "delivery_id" uuid not null, "status" text not null, "attempt_count" int not null,
      "changed_at" timestamptz not null default clock_timestamp());`);
    this.addSql(`create table "event_arrival" (
      "seq" bigint primary key, "event_id" uuid not null, "source_id" uuid null,
      "arrived_at" timestamptz not null default clock_timestamp());`);
    this.addSql(`create sequence "delivery_change_seq" owned by "delivery_change"."seq";`);
    this.addSql(`create sequence "event_arrival_seq" owned by "event_arrival"."seq";`);
    // What retention has deleted so far, per log: a cursor below it can no longer be resumed.
    this.addSql(`create table "live_log_horizon" ("log" text primary key, "pruned_through" bigint not null);`);
    this.addSql(`create function "hookyard_log_delivery_change"() returns trigger language plpgsql as $$
      begin
        perform pg_advisory_xact_lock(1752988004, 1);
        insert into delivery_change (seq, delivery_id, status, attempt_count) values (nextval('delivery_change_seq'), new.id, new.status, new.attempt_count);
        return null;
      end $$;`);
    this.addSql(`create function "hookyard_log_event_arrival"() returns trigger language plpgsql as $$
      begin
        perform pg_advisory_xact_lock(1752988004, 1);
        insert into event_arrival (seq, event_id, source_id) values (nextval('event_arrival_seq'), new.id, new.source_id);
        return null;
      end $$;`);
    this.addSql(`create constraint trigger "delivery_change_on_insert" after insert on "delivery"
      deferrable initially deferred for each row execute function "hookyard_log_delivery_change"();`);
    this.addSql(`create constraint trigger "delivery_change_on_update" after update of "status", "attempt_count" on "delivery"
      deferrable initially deferred for each row
      when (old.status is distinct from new.status or old.attempt_count is distinct from new.attempt_count)
      execute function "hookyard_log_delivery_change"();`);
    this.addSql(`create constraint trigger "event_arrival_on_insert" after insert on "event"
      deferrable initially deferred for each row execute function "hookyard_log_event_arrival"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "event_arrival_on_insert" on "event";`);
    this.addSql(`drop trigger if exists "delivery_change_on_update" on "delivery";`);
    this.addSql(`drop trigger if exists "delivery_change_on_insert" on "delivery";`);
    this.addSql(`drop function if exists "hookyard_log_event_arrival"();`);
    this.addSql(`drop function if exists "hookyard_log_delivery_change"();`);
    this.addSql(`drop table if exists "live_log_horizon";`);
    this.addSql(`drop table if exists "event_arrival";`);
    this.addSql(`drop table if exists "delivery_change";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

export class Migration20261123232418_initial extends Migration {

  override name = 'Migration20261123232418_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "api_token" ("id" uuid not null, "name" text not null, "scope" text not null, "token_hash" text not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "rejected_request" ("id" uuid not null, "source_id" uuid null, "slug" text not null, "reason" text not null, "message" text not null, "status" int not null, "body_bytes" bigint null, "remote_address" text null, "received_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "rejected_request_source_received_at_id_index" on "rejected_request" ("source_id", "received_at", "id");`);
    this.addSql(`create index "rejected_request_received_at_id_index" on "rejected_request" ("received_at", "id");`);

    this.addSql(`create table "relay" ("id" uuid not null, "name" text not null, "url" text not null, "method" text not null default 'POST', "headers_sealed" text null, "signing_secret_sealed" text not null, "signing_secret_hint" text not null, "retry_schedule" jsonb null, "timeout_ms" int not null default 15000, "max_age_seconds" int null, "max_concurrency" int not null default 10, "rate_limit_per_second" int null, "proxy_url" text null, "enabled" boolean not null default true, "disabled_reason" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);

    this.addSql(`create table "event_subscription" ("id" uuid not null, "relay_id" uuid not null, "source_ids" jsonb null, "event_types" jsonb not null, "filter" jsonb null, "forward_headers" jsonb null, "enabled" boolean not null default true, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "event_subscription_relay_id_index" on "event_subscription" ("relay_id");`);

    this.addSql(`create table "source" ("id" uuid not null, "name" text not null, "slug" text not null, "preset" text not null, "enabled" boolean not null default true, "secrets" jsonb not null default '[]', "basic_auth_username" text null, "basic_auth_password_sealed" text null, "tolerance_seconds" int null, "max_body_bytes" int null, "public_url" text null, "require_idempotency_key" boolean not null default false, "rate_limit_per_second" int null, "signature_header" text null, "signature_algorithm" text null, "signature_encoding" text null, "signature_prefix" text null, "timestamp_header" text null, "event_type_from" text null, "idempotency_key_from" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "source" add constraint "source_slug_unique" unique ("slug");`);

    this.addSql(`create table "event" ("id" uuid not null, "source_id" uuid null, "type" text not null, "idempotency_key" text null, "headers" jsonb not null default '{}', "content_type" text null, "body" bytea not null, "received_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "event_source_received_at_id_index" on "event" ("source_id", "received_at", "id");`);
    this.addSql(`create index "event_received_at_id_index" on "event" ("received_at", "id");`);
    // An idempotency key is unique per source; published events (no source) share one space.
    this.addSql(`create unique index "event_idempotency_unique" on "event" (coalesce("source_id", '00000000-0000-0000-0000-000000000000'::uuid), "idempotency_key") where "idempotency_key" is not null;`);

    this.addSql(`create table "delivery" ("id" uuid not null, "event_id" uuid not null, "relay_id" uuid not null, "subscription_id" uuid null, "status" text not null default 'PENDING', "attempt_count" int not null default 0, "next_attempt_at" timestamptz null, "last_attempt_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "delivery_event_id_index" on "delivery" ("event_id");`);
    this.addSql(`create index "delivery_status_next_attempt_at_index" on "delivery" ("status", "next_attempt_at");`);
    this.addSql(`create index "delivery_relay_status_created_at_id_index" on "delivery" ("relay_id", "status", "created_at", "id");`);
    this.addSql(`create index "delivery_created_at_id_index" on "delivery" ("created_at", "id");`);

    this.addSql(`create table "attempt" ("id" uuid not null, "delivery_id" uuid not null, "number" int not null, "started_at" timestamptz not null, "duration_ms" int not null, "request_headers" jsonb not null, "response_status" int null, "response_body_excerpt" text null, "error_class" text null, "error_message" text null, primary key ("id"));`);
    this.addSql(`create index "attempt_delivery_started_at_id_index" on "attempt" ("delivery_id", "started_at", "id");`);

    this.addSql(`alter table "event_subscription" add constraint "event_subscription_relay_id_foreign" foreign key ("relay_id") references "relay" ("id") on delete cascade;`);

    this.addSql(`alter table "event" add constraint "event_source_id_foreign" foreign key ("source_id") references "source" ("id") on delete set null;`);

    this.addSql(`alter table "delivery" add constraint "delivery_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);
    this.addSql(`alter table "delivery" add constraint "delivery_relay_id_foreign" foreign key ("relay_id") references "relay" ("id") on delete cascade;`);

    this.addSql(`alter table "attempt" add constraint "attempt_delivery_id_foreign" foreign key ("delivery_id") references "delivery" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event_subscription" drop constraint "event_subscription_relay_id_foreign";`);
    this.addSql(`alter table "delivery" drop constraint "delivery_relay_id_foreign";`);
    this.addSql(`alter table "event" drop constraint "event_source_id_foreign";`);
    this.addSql(`alter table "delivery" drop constraint "delivery_event_id_foreign";`);
    this.addSql(`alter table "attempt" drop constraint "attempt_delivery_id_foreign";`);

    this.addSql(`drop index if exists "event_idempotency_unique";`);
    this.addSql(`drop table if exists "api_token" cascade;`);
    this.addSql(`drop table if exists "rejected_request" cascade;`);
    this.addSql(`drop table if exists "relay" cascade;`);
    this.addSql(`drop table if exists "event_subscription" cascade;`);
    this.addSql(`drop table if exists "source" cascade;`);
    this.addSql(`drop table if exists "event" cascade;`);
    this.addSql(`drop table if exists "delivery" cascade;`);
    this.addSql(`drop table if exists "attempt" cascade;`);
  }

}

import { Migration } from '@mikro-orm/migrations';

/** Who changed what: one row per mutation (src/graphql/audit.ts), pruned by the retention job. */
export class Migration20261130020000_audit_log extends Migration {
  override name = 'Migration20261130020000_audit_log';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_log" ("id" uuid not null, "occurred_at" timestamptz not null default now(), "token_id" uuid null, "token_name" text not null, "operation" text not null, "target_id" uuid null, "outcome" text not null, "argument_names" text[] not null default '{}', primary key ("id"));`);
    // Newest first on (time, id), and the same order within one target or one token.
    this.addSql(`create index "audit_log_occurred_at_id_index" on "audit_log" ("occurred_at", "id");`);
    this.addSql(`create index "audit_log_target_occurred_at_id_index" on "audit_log" ("target_id", "occurred_at", "id");`);
    this.addSql(`create index "audit_log_token_occurred_at_id_index" on "audit_log" ("token_id", "occurred_at", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_log";`);
  }
}

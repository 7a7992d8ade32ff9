import { Migration } from '@mikro-orm/migrations';

/** API tokens may carry an expiry, after which they authenticate as unknown. */
export class Migration20261130010000_token_expiry extends Migration {
  override name = 'Migration20261130010000_token_expiry';

  override up(): void | Promise<void> {
    this.addSql(`alter table "api_token" add column "expires_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "api_token" drop column "expires_at";`);
  }
}

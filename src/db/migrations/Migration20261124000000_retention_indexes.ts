import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000_retention_indexes extends Migration {

  override name = 'Migration20261124000000_retention_indexes';

  override up(): void | Promise<void> {
    // Retention finds finished deliveries by status and the time they finished.
    this.addSql(`create index "delivery_status_updated_at_index" on "delivery" ("status", "updated_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "delivery_status_updated_at_index";`);
  }

}
